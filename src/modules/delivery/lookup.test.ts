/**
 * `/i` and `/d` read files through the bus-invalidated lookup cache (no database round trip
 * for a hot file), and every change made through the API reaches it before the response:
 * unpublish → 404, delete → 404, new expiry → 410, on PGlite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { json, makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedFile, seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { files } from '../files/table';

describe.each(DB_BACKENDS)('delivery through the lookup cache on %s', (db) => {
  let h: TestApp;
  let u: SeededUser;
  let now = Date.now();
  const bytes = Buffer.from('hello, cached world\n');
  const auth = () => ({ authorization: `Bearer ${u.key}` });

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true' }, clock: { now: () => now } });
    u = await seedUser(h.deps);
  }, 30_000);
  afterAll(() => h.close());

  test('a hot file is served without the database: a row changed behind the API is not re-read', async () => {
    const f = await seedFile(h.deps, u.id, bytes, { contentType: 'text/plain' });
    const first = await h.request(`/i/${f.id}.txt`);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(bytes)).toBe(true);
    // Unpublished directly in the database (no invalidation): the cached entry still answers.
    await h.deps.db.update(files).set({ isPublic: false }).where(eq(files.id, f.id));
    expect((await h.request(`/d/${f.id}`)).status).toBe(200);
  });

  test('HEAD answers the length of the body GET sends (full and ranged), without a body', async () => {
    // Elysia answers HEAD on a GET path by running the GET handler and counting its body; the
    // delivery handler skips the storage read for HEAD, so the length is declared (http.ts headResponse).
    const f = await seedFile(h.deps, u.id, bytes, { contentType: 'text/plain' });
    const head = await h.request(`/i/${f.id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const ranged = await h.request(`/d/${f.id}`, { method: 'HEAD', headers: { range: 'bytes=2-5' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-length')).toBe('4');
    expect(ranged.headers.get('content-range')).toBe(`bytes 2-5/${bytes.length}`);
  });

  test('API changes reach delivery before the response: unpublish → 404, expiry → 410, delete → 404', async () => {
    const a = await seedFile(h.deps, u.id, bytes, { contentType: 'text/plain' });
    expect((await h.request(`/i/${a.id}`)).status).toBe(200);
    expect((await h.request(`/api/files/${a.id}`, json('PATCH', { is_public: false }, auth()))).status).toBe(200);
    expect((await h.request(`/i/${a.id}`)).status).toBe(404);
    expect((await h.request(`/api/files/${a.id}`, json('PATCH', { is_public: true, expires_at: new Date(now + 60_000).toISOString() }, auth()))).status).toBe(200);
    const live = await h.request(`/i/${a.id}`);
    expect(live.status).toBe(200);
    expect(live.headers.get('cache-control')).toBe('public, max-age=60');
    now += 61_000;
    expect((await h.request(`/i/${a.id}`)).status).toBe(410);

    const b = await seedFile(h.deps, u.id, bytes, { contentType: 'text/plain' });
    expect((await h.request(`/d/${b.id}`)).status).toBe(200);
    expect((await h.request(`/api/files/${b.id}`, { method: 'DELETE', headers: auth() })).status).toBe(204);
    expect((await h.request(`/d/${b.id}`)).status).toBe(404);
    expect((await h.request(`/i/${b.id}`, { method: 'HEAD' })).status).toBe(404);
  });
});
