/**
 * The limiter through HTTP: the `public` bucket on delivery paths, the `api` bucket in the auth
 * guard (admins exempt), upload bytes/concurrency, the 429 envelope and headers, and
 * `DISABLE_RATE_LIMIT`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Elysia, t } from 'elysia';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { streamRequestBody } from '../../http';
import { bootstrapAdmin } from '../admin/bootstrap';
import { authGuard } from '../auth/guard';
import { createApiKey } from '../keys/service';
import { users } from '../users/table';
import { limitHeadersOf } from './plugin';
import { startUploadLimits } from './upload';

const T0 = 1_800_000_000_000;
const ENV = {
  RATE_LIMIT_PUBLIC: '3/1m',
  RATE_LIMIT_API: '2/1m',
  RATE_LIMIT_UPLOAD_BYTES: '1000/1h',
  RATE_LIMIT_UPLOAD_CONCURRENCY: '1',
};

describe.each(DB_BACKENDS)('rate limits over HTTP (%s)', (db) => {
  let now = T0;
  let h: TestApp;
  let userKey: string;
  let adminKey: string;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: ENV, clock: { now: () => now } });
    adminKey = (await bootstrapAdmin(h.deps))!.apiKey;
    const [user] = await h.deps.db.insert(users).values({ email: 'u@example.com', passwordHash: 'x' }).returning();
    userKey = (await createApiKey(h.deps.db, user!.id, { scopes: ['files:read', 'files:write'] })).key;
    streamRequestBody(h.deps, '/api/__t/upload'); // like a real upload route: the body is not parsed
    h.app.use(
      new Elysia()
        .use(authGuard(h.deps))
        .get('/api/__t/ping', () => ({ ok: true }), { auth: true })
        .post('/api/__t/upload', async ({ principal, request, set, query }) => {
          const limits = await startUploadLimits(h.deps, limitHeadersOf(set), principal, request.headers.has('content-length') ? Number(request.headers.get('content-length')) : null);
          // Kept, as an upload route keeps a file: its bytes are counted as they arrive.
          const bytes = (await request.arrayBuffer()).byteLength;
          await limits.chargeBytes(bytes);
          await limits.finish(bytes);
          if (query.hold !== '1') await limits.release();
          return { ok: true };
        }, { auth: 'files:write', parse: 'none', query: t.Object({ hold: t.Optional(t.String()) }) }),
    );
  }, 60_000);
  afterAll(() => h?.close());

  test('public bucket: headers on every delivery response, then 429 with Retry-After and details', async () => {
    now = T0 + 500;
    for (let i = 2; i >= 0; i--) {
      const res = await h.request('/i/doesnotexist');
      expect(res.status).toBe(404); // counted even when the id does not exist (scanning)
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      expect(res.headers.get('x-ratelimit-remaining')).toBe(String(i));
      expect(res.headers.get('x-ratelimit-reset')).toBe(String((T0 + 61_000) / 1000));
    }
    now = T0 + 20_000;
    const res = await h.request('/t/w_10/whatever.png');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('41');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await res.json()).toEqual({
      error: 'RATE_LIMITED',
      message: 'Rate limit exceeded.',
      details: { bucket: 'public', limit: 3, remaining: 0, retry_after: 41, window_seconds: 60 },
    });
    // Routes outside delivery are not in the public bucket.
    expect((await h.request('/health')).headers.get('x-ratelimit-limit')).toBeNull();
    now = T0 + 61_000;
    expect((await h.request('/d/x')).status).toBe(404);
  });

  test('api bucket: per account on /api, admins exempt', async () => {
    now = T0 + 100_000;
    const headers = { 'x-api-key': userKey };
    expect((await h.request('/api/__t/ping', { headers })).headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await h.request('/api/__t/ping', { headers })).status).toBe(200);
    const denied = await h.request('/api/__t/ping', { headers });
    expect(denied.status).toBe(429);
    expect(((await denied.json()) as { details: { bucket: string } }).details.bucket).toBe('api');
    for (let i = 0; i < 4; i++) {
      const res = await h.request('/api/__t/ping', { headers: { 'x-api-key': adminKey } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });

  test('GET /api/profile: the plan lists the buckets that count the account (an admin is not shown api and upload_*, which do not count it)', async () => {
    now = T0 + 200_000;
    const [user] = await h.deps.db.insert(users).values({ email: 'reader@example.com', passwordHash: 'x' }).returning();
    const readerKey = (await createApiKey(h.deps.db, user!.id, { scopes: ['account:read'] })).key;
    const bucketsOf = async (key: string) => {
      const res = await h.request('/api/profile', { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      return Object.keys(((await res.json()) as { plan: { rate_limits: Record<string, unknown> } }).plan.rate_limits).sort();
    };
    const mine = await bucketsOf(readerKey);
    expect(mine).toEqual(expect.arrayContaining(['api', 'public', 'upload_bytes', 'upload_concurrency', 'upload_count']));
    const admins = await bucketsOf(adminKey);
    expect(admins).toEqual(mine.filter((b) => !['api', 'upload_bytes', 'upload_concurrency', 'upload_count'].includes(b)));
    expect(admins).toContain('public'); // counted per address, admins too
  });

  test('upload_bytes refuses the upload that crosses; upload_concurrency holds one slot', async () => {
    now = T0 + 200_000; // api window of the previous test has passed
    const up = (bytes: number, hold = false) =>
      h.request(`/api/__t/upload${hold ? '?hold=1' : ''}`, { method: 'POST', headers: { 'x-api-key': userKey, 'content-type': 'text/plain', 'content-length': String(bytes) }, body: new Uint8Array(bytes) });
    const first = await up(600);
    expect(first.status, await first.clone().text()).toBe(200);
    now += 60_000;
    const crossing = await up(401);
    expect(crossing.status).toBe(429);
    const body = (await crossing.json()) as { details: Record<string, number | string> };
    expect(body.details).toMatchObject({ bucket: 'upload_bytes', limit: 1000, remaining: 400, window_seconds: 3600 });
    now += 60_000;
    expect((await up(400, true)).status).toBe(200); // exactly at the limit; its slot stays held
    now += 1_000; // well within the 30 s lease
    const busy = await up(0);
    expect(busy.status).toBe(429);
    expect(((await busy.json()) as { details: { bucket: string } }).details.bucket).toBe('upload_concurrency');
    now += 61_000; // the held lease was never released nor renewed: it lapses by itself (30 s TTL)
    expect((await up(0)).status).toBe(200);
  });

  test('POST /api/files: the real upload route refuses the upload that crosses upload_bytes', async () => {
    now = T0 + 10_000_000; // earlier windows have passed
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c00' } }).png().toBuffer();
    const post = (body: Uint8Array<ArrayBuffer>) =>
      h.request('/api/files', { method: 'POST', headers: { 'x-api-key': userKey, 'content-type': 'image/png', 'content-length': String(body.byteLength) }, body });
    const first = await post(png);
    expect(first.status, await first.clone().text()).toBe(201);
    now += 61_000;
    const padded = new Uint8Array(1000 - png.byteLength + 1);
    padded.set(png);
    const crossing = await post(padded);
    expect(crossing.status).toBe(429);
    expect(((await crossing.json()) as { details: { bucket: string; remaining: number } }).details).toMatchObject({ bucket: 'upload_bytes', remaining: 1000 - png.byteLength });
  });

  test('POST /api/files without Content-Length: the chunked upload that crosses upload_bytes is refused mid-stream, nothing kept', async () => {
    now = T0 + 20_000_000; // a fresh window: 1000 bytes of budget
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0c0' } }).png().toBuffer();
    const chunked = (total: number) => {
      const bytes = new Uint8Array(total);
      bytes.set(png);
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= total) return c.close();
          c.enqueue(bytes.slice(sent, sent + 256));
          sent += 256;
        },
      });
    };
    const post = (total: number) =>
      h.request('/api/files', { method: 'POST', headers: { 'x-api-key': userKey, 'content-type': 'image/png' }, body: chunked(total), duplex: 'half' } as RequestInit);
    // RATE_LIMIT_API is 2/1m here: step the clock past it between calls (the byte window is 1 h).
    const listCount = async () => {
      now += 61_000;
      return ((await (await h.request('/api/files', { headers: { 'x-api-key': userKey } })).json()) as { count: number }).count;
    };
    const before = await listCount();
    now += 61_000;
    const small = await post(512);
    expect(small.status, await small.clone().text()).toBe(201);
    now += 61_000;
    const crossing = await post(4096);
    expect(crossing.status).toBe(429);
    expect(((await crossing.json()) as { details: { bucket: string } }).details.bucket).toBe('upload_bytes');
    expect(await listCount()).toBe(before + 1);
  });
});

test('DISABLE_RATE_LIMIT=true: no headers, never 429', async () => {
  const h = await makeTestApp({ env: { RATE_LIMIT_PUBLIC: '1/1m', DISABLE_RATE_LIMIT: 'true' } });
  try {
    for (let i = 0; i < 5; i++) {
      const res = await h.request('/i/x');
      expect(res.status).toBe(404);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
  } finally {
    await h.close();
  }
}, 30_000);
