/**
 * Presigned uploads (API.md §4) through the real routes in process, on PGlite and Postgres:
 * the URL takes one upload without credentials under the policy (folder, visibility, size,
 * types), exactly once even under concurrency, refuses when expired (410), and a failed upload
 * leaves it usable.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';

interface Presigned { url: string; expires_at: string }
interface FileJson { id: string; folder: string; is_public: boolean; content_type: string }

describe.each(DB_BACKENDS)('presigned uploads on %s', (db) => {
  let h: TestApp;
  let u: SeededUser;
  let img: Uint8Array<ArrayBuffer>;
  let now = Date.now();
  const presign = async (body: Record<string, unknown>) => {
    const r = await h.request('/api/uploads/presign', json('POST', body, { authorization: `Bearer ${u.key}` }));
    return { status: r.status, body: (await r.json()) as Presigned & { error?: string } };
  };
  /** POSTs to the presigned URL with no credential at all. */
  const send = (url: string, body: BodyInit, headers: Record<string, string> = { 'content-type': 'image/png' }) =>
    h.request(new URL(url).pathname, { method: 'POST', body, headers });

  beforeAll(async () => {
    img = new Uint8Array(await sharp({ create: { width: 6, height: 6, channels: 3, background: '#00f' } }).png().toBuffer());
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' }, clock: { now: () => now } });
    u = await seedUser(h.deps);
  }, 30_000);
  afterAll(() => h.close());

  test('presign → a one-time URL that uploads without credentials into the policy folder', async () => {
    const p = await presign({ folder: '/inbox//web/', is_public: false, expires_in: 600 });
    expect(p.status).toBe(201);
    expect(p.body.url).toMatch(/^http:\/\/test\.local\/api\/uploads\/[A-Za-z0-9]{43}$/);
    expect(Date.parse(p.body.expires_at)).toBe(now + 600_000);
    // The form's own folder or visibility cannot escape the policy: refused with the reason (it was
    // dropped without a word, the file stored in the policy's folder), and the URL stays usable.
    const sent = (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append('file', new Blob([img], { type: 'image/png' }), 'a.png');
      return send(p.body.url, form, {});
    };
    for (const [field, value, said] of [['folder', '/elsewhere', 'stores files in /inbox/web'], ['is_public', 'true', 'stores private files']] as const) {
      const refused = await sent({ [field]: value });
      expect(refused.status).toBe(400);
      const body = (await refused.json()) as { error: string; message: string; details: { fields: { path: string }[] } };
      expect(body).toMatchObject({ error: 'VALIDATION_ERROR', details: { fields: [{ path: `/${field}` }] } });
      expect(body.message).toContain(said);
    }
    // The policy's own values, however written, are fine.
    const r = await sent({ folder: 'inbox/web/', is_public: 'false' });
    expect(r.status).toBe(201);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    const file = ((await r.json()) as { file: FileJson }).file;
    expect(file).toMatchObject({ folder: '/inbox/web', is_public: false, content_type: 'image/png' });
    const mine = await h.request(`/api/files/${file.id}`, { headers: { authorization: `Bearer ${u.key}` } });
    expect(mine.status).toBe(200);

    const again = await send(p.body.url, img);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe('CONFLICT');
    expect(again.headers.get('access-control-allow-origin')).toBe('*'); // the browser can read why
  });

  test('single use under concurrency: of 8 parallel uploads exactly one is stored', async () => {
    const p = await presign({});
    const results = await Promise.all(Array.from({ length: 8 }, () => send(p.body.url, img)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
  });

  test('expired → 410; unknown → 404; expires_in over 3600 → 400', async () => {
    const p = await presign({ expires_in: 60 });
    now += 61_000;
    const r = await send(p.body.url, img);
    expect(r.status).toBe(410);
    expect(((await r.json()) as { error: string }).error).toBe('GONE');
    expect((await send('http://test.local/api/uploads/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', img)).status).toBe(404);
    expect((await presign({ expires_in: 3601 })).status).toBe(400);
  });

  test('policy: a type outside content_types → 415 and the URL stays usable; max_size → 413; types the server refuses → 400', async () => {
    const p = await presign({ content_types: ['image/*'], max_size: img.length + 10 });
    const text = await send(p.body.url, 'just some text', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    const big = new Uint8Array(img.length + 100);
    big.set(img);
    expect((await send(p.body.url, big)).status).toBe(413);
    expect((await send(p.body.url, img)).status).toBe(201); // the failures did not spend it
    expect((await presign({ content_types: ['text/html'] })).status).toBe(400);
  });

  test('one file per URL, as an S3 presigned POST: a form with two files is refused whole, nothing stored, and the URL stays usable', async () => {
    const p = await presign({ folder: '/one' });
    const two = new FormData();
    two.append('file', new Blob([img], { type: 'image/png' }), 'a.png');
    two.append('file', new Blob([img], { type: 'image/png' }), 'b.png');
    const refused = await send(p.body.url, two, {});
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toBe('One file per request: this upload takes a single file part.');
    const listed = await h.request('/api/files?folder=/one', { headers: { authorization: `Bearer ${u.key}` } });
    expect(((await listed.json()) as { count: number }).count).toBe(0);
    const one = new FormData();
    one.append('file', new Blob([img], { type: 'image/png' }), 'a.png');
    expect((await send(p.body.url, one, {})).status).toBe(201);
  });

  test('CORS preflight for a browser on another origin', async () => {
    const p = await presign({});
    const r = await h.request(new URL(p.body.url).pathname, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-headers')).toContain('x-file-name');
  });
});
