/**
 * Nothing a client sends is silently ignored (issue #26 point 4), over real HTTP: unknown
 * query parameters, JSON body fields and multipart fields are refused with a 400 naming them
 * (with the close known name), a JSON route answers another body type with 415, and public
 * delivery URLs still serve with a cache-buster query string.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';
import { until } from '../helpers/until';

interface Field { path: string; message: string; in: string; suggestion?: string }
interface ErrorJson { error: string; message: string; details: { fields: Field[] } }
interface FileJson { id: string; url: string; is_public: boolean }

const png = (w = 24, h = 16) => sharp({ create: { width: w, height: h, channels: 3, background: '#3366cc' } }).png().toBuffer();

describe('unknown inputs are refused, never ignored', () => {
  let srv: RunningServer;
  let key: string;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
  /** Stored objects on the fs driver, staging area included: a refused upload leaves none. */
  /**
   * The stored objects' paths (temp and tus staging folders aside: their files come and go with
   * uploads in flight). Compared as sets: a purge from an earlier test may remove one meanwhile,
   * what must not happen is a new one.
   */
  const objects = async (): Promise<Set<string>> => {
    const root = join(srv.dataDir, 'files');
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return new Set(entries
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(root.length))
      .filter((p) => !/^\/\.(tmp|tus)\//.test(p)));
  };
  /** Objects in `now` that were not in `before`. */
  const added = (now: Set<string>, before: Set<string>) => [...now].filter((p) => !before.has(p));
  const fileCount = async () => ((await (await api('/api/files?limit=1')).json()) as { count: number }).count;
  const uploadOne = async (): Promise<FileJson> => {
    const r = await api('/api/files', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(201);
    return ((await r.json()) as { file: FileJson }).file;
  };
  const settings = async () => (await (await api('/api/settings')).json()) as { default_is_public: boolean };

  beforeAll(async () => {
    srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
    key = srv.bootstrap!.api_key;
  }, 60_000);
  afterAll(() => srv?.close());

  test('?isPublic=false on an upload: 400 naming isPublic, suggesting is_public, nothing stored', async () => {
    const [before, stored] = [await fileCount(), await objects()];
    const r = await api('/api/files?isPublic=false', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(r.status).toBe(400);
    const j = (await r.json()) as ErrorJson;
    expect(j.error).toBe('VALIDATION_ERROR');
    expect(j.message).toContain('isPublic');
    expect(j.message).toContain('did you mean is_public?');
    expect(j.details.fields).toEqual([
      { path: '/isPublic', message: 'is not a known query parameter; did you mean is_public?', in: 'query', suggestion: 'is_public' },
    ]);
    expect(await fileCount()).toBe(before);
    expect(added(await objects(), stored)).toEqual([]);
    // The declared spelling works.
    const ok = await api('/api/files?is_public=false', { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { file: FileJson }).file.is_public).toBe(false);
  });

  test('page=2 on /api/logs: 400 naming page (pagination is `cursor`)', async () => {
    const r = await api('/api/logs?page=2');
    expect(r.status).toBe(400);
    const j = (await r.json()) as ErrorJson;
    expect(j.details.fields.map((f) => f.path)).toEqual(['/page']);
    expect(j.message).toContain('cursor'); // the known parameters are listed
    expect((await api('/api/logs?limit=1')).status).toBe(200);
  });

  test('a one-value parameter given twice is a 400 (the last one was used without a word); a list parameter repeats', async () => {
    for (const path of ['/api/queue/jobs?status=failed&status=pending', '/api/logs?status=4xx&status=2xx', '/api/files?q=a&q=b']) {
      const r = await api(path);
      expect([path, r.status]).toEqual([path, 400]);
      const j = (await r.json()) as ErrorJson;
      expect(j.message).toMatch(/^The query parameter (status|q) takes one value; it was given more than once\.$/);
      expect(j.details.fields[0]!.path).toMatch(/^\/(status|q)$/);
    }
    expect((await api('/api/files?tag=a&tag=b')).status).toBe(200);
  });

  test('a filter that names nothing is refused: tag= or tag=, listed every file, method=FOOBAR an empty page; a blank folder path was the root\'s 409', async () => {
    const refused: [string, RequestInit, string][] = [
      ['/api/files?tag=', {}, '/tag'],
      ['/api/files?tag=,', {}, '/tag'],
      ['/api/files?tag=a,', {}, '/tag'],
      ['/api/logs?method=FOOBAR', {}, '/method'],
      ['/api/folders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: '   ' }) }, '/path'],
    ];
    for (const [path, init, field] of refused) {
      const r = await api(path, init);
      const j = (await r.json()) as ErrorJson;
      expect({ path, status: r.status, error: j.error, field: j.details?.fields[0]?.path }).toEqual({ path, status: 400, error: 'VALIDATION_ERROR', field });
    }
    expect((await api('/api/logs?method=post')).status).toBe(200);
    expect((await api('/api/files?tag=a,b')).status).toBe(200);
  });

  test('a number in the query is written in decimal: 0x2, 0b1, 1e0, +2 and " 2" are a 400 naming it (they were read as numbers)', async () => {
    for (const value of ['0x2', '0b1', '1e0', '+2', '%202', '0o7', 'Infinity']) {
      const r = await api(`/api/files?limit=${value}`);
      const j = (await r.json()) as ErrorJson;
      expect({ value, status: r.status, path: j.details?.fields[0]?.path }).toEqual({ value, status: 400, path: '/limit' });
    }
    expect((await api('/api/files?limit=2')).status).toBe(200);
    expect((await api('/api/usage/history?months=3')).status).toBe(200);
  });

  test('a close misspelling gets a suggestion; a route without a query takes none', async () => {
    const r = await api('/api/files?limt=5');
    expect(r.status).toBe(400);
    expect(((await r.json()) as ErrorJson).details.fields[0]!.suggestion).toBe('limit');
    for (const path of ['/api/profile?verbose=1', '/health?x=1']) {
      const res = await api(path);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorJson).message).toContain('takes no query parameters');
    }
  });

  test('an unknown JSON body field: 400 with the suggestion, nothing changed', async () => {
    const f = await uploadOne();
    const r = await api(`/api/files/${f.id}`, { method: 'PATCH', body: JSON.stringify({ isPublic: false }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    const j = (await r.json()) as ErrorJson;
    expect(j.details.fields[0]).toMatchObject({ path: '/isPublic', in: 'body', suggestion: 'is_public' });
    expect(((await (await api(`/api/files/${f.id}`)).json()) as FileJson).is_public).toBe(true);
  });

  test('PATCH /api/settings with text/plain, a form or no Content-Type: 415 and the setting unchanged', async () => {
    const body = JSON.stringify({ default_is_public: false });
    expect((await settings()).default_is_public).toBe(true);
    const sends: [string, RequestInit][] = [
      ['text/plain', { body, headers: { 'content-type': 'text/plain' } }],
      ['application/x-www-form-urlencoded', { body: 'default_is_public=false', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
      ['none', { body: new TextEncoder().encode(body) }], // a byte body: fetch adds no Content-Type
    ];
    for (const [detected, init] of sends) {
      const r = await api('/api/settings', { method: 'PATCH', ...init });
      expect(r.status).toBe(415);
      const j = (await r.json()) as { error: string; details: { detected: string } };
      expect(j).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE', details: { detected } });
      expect((await settings()).default_is_public).toBe(true);
    }
    const ok = await api('/api/settings', { method: 'PATCH', body, headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(ok.status).toBe(200);
    expect((await settings()).default_is_public).toBe(false);
    await api('/api/settings', { method: 'PATCH', body: JSON.stringify({ default_is_public: true }), headers: { 'content-type': 'application/json' } });
  });

  test('a route without a body schema still takes a bodiless request', async () => {
    const f = await uploadOne();
    expect((await api(`/api/files/${f.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  test('multipart: an unknown text field (before or after the file) or file part: 400 naming it, nothing stored', async () => {
    const bytes = await png();
    const forms: [string, FormData, string | undefined][] = [];
    const before = new FormData();
    before.append('isPublic', 'false');
    before.append('file', new Blob([bytes], { type: 'image/png' }), 'a.png');
    forms.push(['isPublic', before, 'is_public']);
    const after = new FormData();
    after.append('file', new Blob([bytes], { type: 'image/png' }), 'a.png');
    after.append('colour', 'red');
    forms.push(['colour', after, undefined]);
    const part = new FormData();
    part.append('files', new Blob([bytes], { type: 'image/png' }), 'a.png');
    forms.push(['files', part, 'file']);
    const text = new FormData();
    text.append('file', 'not a file'); // a text part under the file's name
    forms.push(['file', text, undefined]);
    for (const [name, form, suggestion] of forms) {
      const [count, stored] = [await fileCount(), await objects()];
      const r = await api('/api/files', { method: 'POST', body: form });
      expect(r.status).toBe(400);
      const j = (await r.json()) as ErrorJson;
      expect(j.error).toBe('VALIDATION_ERROR');
      expect(j.details.fields[0]!.path).toBe(`/${name}`);
      expect(j.details.fields[0]!.suggestion).toBe(suggestion);
      expect(await fileCount()).toBe(count);
      expect(added(await objects(), stored)).toEqual([]);
    }
  });

  test('presigned upload: an unknown field or parameter is refused and the URL stays usable', async () => {
    const p = await api('/api/uploads/presign', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(p.status).toBe(201);
    const url = new URL(((await p.json()) as { url: string }).url);
    const form = new FormData();
    form.append('file', new Blob([await png()], { type: 'image/png' }), 'a.png');
    form.append('expires', '60');
    const bad = await fetch(`${srv.url}${url.pathname}`, { method: 'POST', body: form });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorJson).details.fields[0]!.path).toBe('/expires');
    const badQuery = await fetch(`${srv.url}${url.pathname}?folderr=/x`, { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as ErrorJson).details.fields[0]!.suggestion).toBe('folder');
    const ok = await fetch(`${srv.url}${url.pathname}`, { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } });
    expect(ok.status).toBe(201);
  });

  test('public delivery ignores query strings: cache-busters still serve', async () => {
    const f = await uploadOne();
    const paths = [`/i/${f.id}.png?v=123`, `/d/${f.id}?v=123&_=1`, `/t/w_10/${f.id}?v=123`];
    for (const path of paths) {
      const r = await fetch(`${srv.url}${path}`);
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(0);
      expect((await fetch(`${srv.url}${path}`, { method: 'HEAD' })).status).toBe(200);
    }
  });

  test('a refusal before authentication is logged with the client address (it was "unknown")', async () => {
    const marker = `m${Date.now()}`;
    expect((await api(`/api/files?bogus=${marker}`)).status).toBe(400);
    expect((await api(`/api/nowhere/${marker}`)).status).toBe(404);
    const big = JSON.stringify({ default_visibility: 'x'.repeat(1024 * 1024) + marker });
    expect((await api(`/api/settings?x=${marker}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: big })).status).toBe(413);
    type Entry = { path: string; status_code: number; ip: string | null };
    const logged = await until('the three refusals to be logged', async () => {
      const { results } = (await (await api('/api/logs?limit=200&status=4xx')).json()) as { results: Entry[] };
      const mine = results.filter((e) => e.path.includes(marker));
      return mine.length === 3 ? mine : null;
    }, 30_000);
    expect(logged.map((e) => [e.status_code, e.ip]).sort()).toEqual([[400, '127.0.0.1'], [404, '127.0.0.1'], [413, '127.0.0.1']]);
  });
});
