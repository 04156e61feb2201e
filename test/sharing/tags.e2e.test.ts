/**
 * Tags and custom metadata over real HTTP (issue #25): set at upload (multipart fields and the
 * raw-body query), replaced by PATCH, filtered in `GET /api/files` (`tag=` all of, `meta=key:value`
 * or `meta=key`), with `count` matching the filter; bad values are refused with 400 and nothing
 * is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, DB_BACKENDS, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

interface FileJson { id: string; tags: string[]; custom_metadata: Record<string, string> }

describe.each(DB_BACKENDS)('tags and custom metadata (%s)', (backend) => {
  let db: TestDatabase | null = null;
  let srv: RunningServer;
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  let png: Buffer;
  const folder = `/tags-${Date.now().toString(36)}`;

  async function multipart(fields: Record<string, string | string[]>): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one);
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
    return fetch(`${srv.url}/api/files`, { method: 'POST', headers: auth(), body: form });
  }
  async function list(query: string): Promise<{ ids: string[]; count: number }> {
    const res = await fetch(`${srv.url}/api/files?folder=${encodeURIComponent(folder)}&${query}`, { headers: auth() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: FileJson[]; count: number };
    return { ids: body.results.map((f) => f.id).sort(), count: body.count };
  }
  const sorted = (...ids: string[]) => [...ids].sort();
  const fileCount = async () => ((await (await fetch(`${srv.url}/api/usage`, { headers: auth() })).json()) as { files_count: number }).files_count;

  beforeAll(async () => {
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toBuffer();
    if (backend === 'postgres') db = await createTestDatabase();
    srv = await startServer({ env: { ...(db ? { DATABASE_URL: db.url } : {}), DISABLE_RATE_LIMIT: 'true' } });
    key = srv.bootstrap!.api_key;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await db?.drop();
  });

  test('set at upload and by PATCH, filtered by tag and metadata', async () => {
    const a = await multipart({ folder, tags: ['Beach, Holiday', 'beach'], metadata: '{"camera":"x100v","trip":"north, 2026"}' });
    expect(a.status).toBe(201);
    const fa = ((await a.json()) as { file: FileJson }).file;
    expect(fa.tags).toEqual(['beach', 'holiday']); // lower-case, unique
    expect(fa.custom_metadata).toEqual({ camera: 'x100v', trip: 'north, 2026' });

    const raw = await fetch(`${srv.url}/api/files?folder=${encodeURIComponent(folder)}&tags=beach&tags=city&metadata=${encodeURIComponent('{"camera":"gr3"}')}`, {
      method: 'POST', headers: { ...auth(), 'content-type': 'image/png' }, body: new Uint8Array(png),
    });
    expect(raw.status).toBe(201);
    const fb = ((await raw.json()) as { file: FileJson }).file;
    expect(fb.tags).toEqual(['beach', 'city']);
    expect(fb.custom_metadata).toEqual({ camera: 'gr3' });

    const c = await multipart({ folder });
    const fc = ((await c.json()) as { file: FileJson }).file;
    expect(fc).toMatchObject({ tags: [], custom_metadata: {} });

    expect(await list('tag=beach')).toEqual({ ids: sorted(fa.id, fb.id), count: 2 });
    expect(await list('tag=beach&tag=holiday')).toEqual({ ids: [fa.id], count: 1 });
    expect(await list('tag=BEACH,city')).toEqual({ ids: [fb.id], count: 1 });
    expect(await list('tag=nothing')).toEqual({ ids: [], count: 0 });
    expect(await list('meta=camera:x100v')).toEqual({ ids: [fa.id], count: 1 });
    expect(await list(`meta=${encodeURIComponent('trip:north, 2026')}`)).toEqual({ ids: [fa.id], count: 1 }); // a comma in the value
    expect(await list('meta=camera')).toEqual({ ids: sorted(fa.id, fb.id), count: 2 });
    expect(await list('meta=camera:gr3&tag=holiday')).toEqual({ ids: [], count: 0 });
    // Two values of one key must both hold (the last one won: every x100v was listed).
    expect(await list('meta=camera:gr3&meta=camera:x100v')).toEqual({ ids: [], count: 0 });

    const patched = await fetch(`${srv.url}/api/files/${fc.id}`, {
      method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['Holiday', 'night'], custom_metadata: { camera: 'x100v' } }),
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as FileJson)).toMatchObject({ tags: ['holiday', 'night'], custom_metadata: { camera: 'x100v' } });
    expect(await list('tag=holiday')).toEqual({ ids: sorted(fa.id, fc.id), count: 2 });
    expect(await list('meta=camera:x100v')).toEqual({ ids: sorted(fa.id, fc.id), count: 2 });
    const got = (await (await fetch(`${srv.url}/api/files/${fc.id}`, { headers: auth() })).json()) as FileJson;
    expect(got.tags).toEqual(['holiday', 'night']);

    // Cleared.
    const cleared = await fetch(`${srv.url}/api/files/${fc.id}`, {
      method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ tags: [], custom_metadata: {} }),
    });
    expect(((await cleared.json()) as FileJson)).toMatchObject({ tags: [], custom_metadata: {} });
    expect(await list('tag=holiday')).toEqual({ ids: [fa.id], count: 1 });
  });

  test('bad tags or metadata → 400, nothing stored', async () => {
    const before = await fileCount();
    for (const fields of <Record<string, string>[]>[{ tags: 'ok,' + 'x'.repeat(65) }, { tags: 'a;b' }, { metadata: '{"nested":{"a":1}}' }, { metadata: 'not json' }, { metadata: '{"bad key":"v"}' }]) {
      const res = await multipart({ folder, ...fields });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('VALIDATION_ERROR');
    }
    const tooMany = await multipart({ folder, tags: Array.from({ length: 33 }, (_, i) => `t${i}`).join(',') });
    expect(tooMany.status).toBe(400);
    expect(await fileCount()).toBe(before);

    const f = ((await (await multipart({ folder })).json()) as { file: FileJson }).file;
    const bad = await fetch(`${srv.url}/api/files/${f.id}`, {
      method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ custom_metadata: { k: 'v'.repeat(1025) } }),
    });
    expect(bad.status).toBe(400);
    // Refused where they were taken and then stored otherwise, wiping what was there: an array
    // ({"0":"a","1":"b"}), a `__proto__` key (dropped: {}), a blank tag (dropped), `a,b` (split),
    // names that lost their slashes or dots, or changed nothing.
    const patch = (body: unknown) => fetch(`${srv.url}/api/files/${f.id}`, { method: 'PATCH', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await patch({ tags: ['keep'], custom_metadata: { kept: 'yes' } })).status).toBe(200);
    for (const body of [
      { custom_metadata: ['a', 'b'] }, { custom_metadata: JSON.parse('{"__proto__":{"x":"y"}}') as unknown }, { custom_metadata: { k: 'a\u202eb' } }, { tags: [''] }, { tags: ['   '] }, { tags: ['a,b'] },
      { name: '.' }, { name: '..' }, { name: '   ' }, { name: '/' }, { name: '\u200b' }, { name: 'a/b.png' }, { name: '../../etc/passwd' }, { name: '.hidden' }, { name: '<script>alert(1)</script>.png' },
    ]) {
      const res = await patch(body);
      const got = (await res.json()) as { error: string; details: { fields: { path: string }[] } };
      expect([JSON.stringify(body), res.status, got.error, got.details?.fields[0]!.path.split('/')[1]]).toEqual([JSON.stringify(body), 400, 'VALIDATION_ERROR', Object.keys(body)[0]]);
    }
    // A bad item of the list is named by its index (it was `/tags`).
    const item = (await (await patch({ tags: ['ok', 'bad!'] })).json()) as { details: { fields: { path: string }[] } };
    expect(item.details.fields[0]!.path).toBe('/tags/1');
    const kept = (await (await fetch(`${srv.url}/api/files/${f.id}`, { headers: auth() })).json()) as FileJson & { name: string };
    expect([kept.tags, kept.custom_metadata]).toEqual([['keep'], { kept: 'yes' }]);
    expect((await patch({ name: 'ünïcode name (2).png' })).status).toBe(200);
    expect((await patch({ custom_metadata: { note: 'two\nlines\tand a tab', windows: 'two\r\nlines' } })).status).toBe(200);
    expect((await fetch(`${srv.url}/api/files?meta=${encodeURIComponent('bad key:v')}`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${srv.url}/api/files?tags=beach`, { headers: auth() })).status).toBe(400); // the filter is `tag`
  });
});
