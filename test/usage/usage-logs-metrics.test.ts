/**
 * Usage, request logs and /metrics through the in-process app, on PGlite and Postgres
 * (issue #8 acceptance 1–3 within one process; the two-process run is usage.e2e.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { bootstrapAdmin } from '../../src/modules/admin/bootstrap';
import { pruneLogs } from '../../src/modules/logs/service';
import { DB_BACKENDS } from '../helpers/services';
import { json, makeTestApp, type TestApp } from '../helpers/app';
import { parsePrometheus, sampleSum, sampleValue } from '../helpers/prometheus';

const METRICS_TOKEN = 'metrics-test-token-0123456789';
const png = async (w: number, color: string) => new Uint8Array(await sharp({ create: { width: w, height: 40, channels: 3, background: color } }).png().toBuffer());

/**
 * After-response hooks run just after the caller got its response, queued on setImmediate by
 * Elysia: one turn of that queue lets every hook queued so far run (not a time, so load cannot
 * make it too short); then write the log buffer.
 */
async function settle(h: TestApp): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  await h.deps.requestLogs.flush();
}

interface Account { email: string; key: string; jwt: string; userId: string }

/** Registers an account and gives it an API key. */
async function createAccount(h: TestApp, email: string): Promise<Account> {
  const reg = await h.request('/api/auth/register', json('POST', { email, password: 'correct horse battery' }));
  expect(reg.status).toBe(201);
  const body = (await reg.json()) as { user: { id: string }; session: { access_token: string } };
  const jwt = body.session.access_token;
  const k = await h.request('/api/auth/api-keys', json('POST', { name: 'test' }, { authorization: `Bearer ${jwt}` }));
  expect(k.status).toBe(201);
  return { email, key: ((await k.json()) as { key: string }).key, jwt, userId: body.user.id };
}

describe.each(DB_BACKENDS)('usage, logs and metrics on %s', (db) => {
  let h: TestApp;
  let adminKey: string;
  let alice: Account;
  let bob: Account;
  const as = (a: { key: string }, path: string, init: RequestInit = {}) =>
    h.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${a.key}` } });
  const scrape = async () => {
    const r = await h.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    return parsePrometheus(await r.text());
  };

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { METRICS_TOKEN, RATE_LIMIT_REGISTER: '100/1h', AUTO_AVIF: 'false' } });
    adminKey = (await bootstrapAdmin(h.deps))!.apiKey;
    alice = await createAccount(h, 'alice@example.com');
    bob = await createAccount(h, 'bob@example.com');
  }, 120_000);
  afterAll(() => h?.close());

  test('usage equals what the client counted, per account, after a flush', async () => {
    const counted = new Map<string, { storage: number; files: number; reads: number; ops: number; bytes: number }>();
    for (const a of [alice, bob]) counted.set(a.userId, { storage: 0, files: 0, reads: 0, ops: 0, bytes: 0 });
    const ids = new Map<string, { id: string; size: number }[]>();
    const upload = async (a: Account, body: Uint8Array<ArrayBuffer>) => {
      const r = await as(a, '/api/files', { method: 'POST', body, headers: { 'content-type': 'image/png' } });
      expect(r.status).toBe(201);
      const f = ((await r.json()) as { file: { id: string; size: number } }).file;
      const c = counted.get(a.userId)!;
      c.storage += f.size;
      c.files++;
      ids.set(a.userId, [...(ids.get(a.userId) ?? []), f]);
      return f;
    };
    const get = async (a: Account, path: string, kind: 'read' | 'op' | 'hit') => {
      const r = await h.request(path);
      expect(r.status).toBe(200);
      const c = counted.get(a.userId)!;
      c.bytes += (await r.arrayBuffer()).byteLength;
      if (kind === 'read') c.reads++;
      if (kind === 'op') {
        expect(r.headers.get('x-cache')).toBe('MISS');
        c.ops++;
      }
      if (kind === 'hit') expect(r.headers.get('x-cache')).toStartWith('HIT');
    };
    const a1 = await upload(alice, await png(50, '#ff0000'));
    const a2 = await upload(alice, await png(60, '#00ff00'));
    const b1 = await upload(bob, await png(70, '#0000ff'));
    await get(alice, `/i/${a1.id}`, 'read');
    await get(alice, `/i/${a1.id}.png`, 'read');
    await get(alice, `/d/${a2.id}`, 'read');
    await get(alice, `/t/w_20,f_webp/${a1.id}`, 'op');
    await get(alice, `/t/w_20,f_webp/${a1.id}`, 'hit');
    await get(alice, `/t/w_30,f_png/${a2.id}`, 'op');
    await get(bob, `/i/${b1.id}`, 'read');
    await get(bob, `/t/w_25,f_webp/${b1.id}`, 'op');
    await get(bob, `/t/w_25,f_webp/${b1.id}`, 'hit');
    await get(bob, `/t/w_25,f_webp/${b1.id}`, 'hit');
    const del = await as(alice, `/api/files/${a2.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    counted.get(alice.userId)!.storage -= a2.size;
    counted.get(alice.userId)!.files--;

    await h.deps.usage.flush();
    for (const a of [alice, bob]) {
      const r = await as(a, '/api/usage');
      expect(r.status).toBe(200);
      const u = (await r.json()) as Record<string, number | string>;
      const c = counted.get(a.userId)!;
      expect(u).toMatchObject({ storage_bytes: c.storage, files_count: c.files, origin_reads: c.reads, image_ops: c.ops, bytes_served: c.bytes });
      const now = new Date();
      expect(u.period).toBe(now.toISOString().slice(0, 7));
      expect(u.period_start).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString());
      expect(u.period_end).toBe(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString());
    }
    // A flush with nothing pending changes nothing; an older month is empty but well-formed.
    await h.deps.usage.flush();
    const again = (await (await as(bob, '/api/usage')).json()) as Record<string, number>;
    expect(again.bytes_served).toBe(counted.get(bob.userId)!.bytes);
    const old = (await (await as(bob, '/api/usage?period=2020-02')).json()) as Record<string, number | string>;
    expect(old).toMatchObject({ period: '2020-02', origin_reads: 0, image_ops: 0, bytes_served: 0, period_start: '2020-02-01T00:00:00.000Z', period_end: '2020-03-01T00:00:00.000Z' });
    expect((await as(bob, '/api/usage?period=2020-13')).status).toBe(400);
    expect((await h.request('/api/usage')).status).toBe(401);
  }, 60_000);

  test('logs: own requests only, no secrets, filters and keyset pagination', async () => {
    const marker = `bobonly${Date.now()}`;
    expect((await as(bob, `/api/files?q=${marker}`)).status).toBe(200);
    const since = new Date(Date.now() - 1).toISOString();
    const page = await as(alice, '/api/files?limit=3');
    const pageBytes = (await page.arrayBuffer()).byteLength;
    const profileBytes = (await (await as(alice, '/api/profile')).arrayBuffer()).byteLength;
    await as(alice, `/api/files?q=${alice.key}`); // a key-looking value in a declared parameter
    await as(alice, `/api/files/${alice.key}`); // 404, with the key in the path
    await h.request('/api/files', { headers: { authorization: `Bearer ${alice.jwt}` } });
    await as(alice, '/api/usage?period=2020-13'); // 400
    const refused = await as(alice, '/api/files?sort=name&cursor=garbage'); // 400 from the handler, after authentication
    expect(refused.status).toBe(400);
    const refusedBytes = (await refused.arrayBuffer()).byteLength;
    await as(alice, '/api/auth/api-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); // 403: keys cannot manage keys
    await settle(h);

    type Entry = { id: string; method: string; path: string; status_code: number; api_key_prefix: string | null; created_at: string; duration_ms: number; response_size_bytes: number | null };
    const list = async (q: string) => {
      const r = await as(alice, `/api/logs${q}`);
      expect(r.status).toBe(200);
      return (await r.json()) as { results: Entry[]; count: number; next_cursor: string | null };
    };
    const all = await list('?limit=200');
    const text = JSON.stringify(all);
    expect(text).not.toContain(marker);
    expect(text).not.toContain(alice.key);
    expect(text).not.toContain(alice.key.slice(0, 20));
    expect(text).not.toContain(bob.key.slice(0, 20));
    expect(text).not.toContain('eyJ');
    expect(all.count).toBe(all.results.length);
    const times = all.results.map((e) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(all.results.map((e) => Number(e.id))).toEqual(all.results.map((e) => Number(e.id)).sort((x, y) => y - x));
    const viaKey = all.results.find((e) => e.path === '/api/files?limit=3')!;
    expect(viaKey).toMatchObject({ method: 'GET', status_code: 200, api_key_prefix: alice.key.slice(0, 12) });
    expect(viaKey.response_size_bytes).toBe(pageBytes);
    // The profile, a pre-serialised answer, has its size too (the app's log showed it as a stream).
    expect(all.results.find((e) => e.path === '/api/profile')?.response_size_bytes).toBe(profileBytes);
    expect(all.results.find((e) => e.path === '/api/files' && e.api_key_prefix === null)).toBeDefined();
    // A request refused before authentication ran (a malformed query) is the caller's too: it was left out.
    expect(all.results.find((e) => e.path === '/api/usage?period=2020-13')).toMatchObject({ status_code: 400, api_key_prefix: alice.key.slice(0, 12) });
    // An error's envelope is sized too (every 4xx was logged as 0 bytes).
    expect(refusedBytes).toBeGreaterThan(50);
    expect(all.results.find((e) => e.path === '/api/files?sort=name&cursor=garbage')?.response_size_bytes).toBe(refusedBytes);
    expect(all.results.some((e) => e.path === '/api/files/[redacted]' && e.status_code === 404)).toBe(true);
    expect(all.results.some((e) => e.status_code === 403 && e.method === 'POST')).toBe(true);
    // Bob's list has his marker and nothing of Alice's.
    const bobs = (await (await as(bob, '/api/logs?limit=200')).json()) as { results: Entry[] };
    expect(bobs.results.some((e) => e.path.includes(marker))).toBe(true);
    expect(bobs.results.some((e) => e.path.includes('limit=3'))).toBe(false);

    const only404 = await list('?status=404');
    expect(only404.results.length).toBeGreaterThan(0);
    expect(only404.results.every((e) => e.status_code === 404)).toBe(true);
    const client = await list('?status=4xx&limit=200');
    expect(client.results.every((e) => e.status_code >= 400 && e.status_code < 500)).toBe(true);
    expect(client.count).toBe(all.results.filter((e) => e.status_code >= 400 && e.status_code < 500).length);
    const posts = await list('?method=post');
    expect(posts.results.length).toBeGreaterThan(0);
    expect(posts.results.every((e) => e.method === 'POST')).toBe(true);
    const recent = await list(`?since=${encodeURIComponent(since)}&limit=200`);
    expect(recent.count).toBe(all.results.filter((e) => e.created_at >= since).length);
    expect(recent.count).toBeLessThan(all.count);

    const paged: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page: Awaited<ReturnType<typeof list>> = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.count).toBeGreaterThanOrEqual(all.count);
      paged.push(...page.results.map((e) => e.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    // Listing logs is itself logged, so pages may see newer entries; keyset pages never repeat or skip.
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged.slice(-all.results.length)).toEqual(all.results.map((e) => e.id));
    expect((await as(alice, '/api/logs?cursor=bogus')).status).toBe(400);
    expect((await as(alice, '/api/logs?status=abc')).status).toBe(400);
  }, 60_000);

  test('metrics: 401/403 without the right credential, parses, counters move with traffic', async () => {
    expect((await h.request('/metrics')).status).toBe(401);
    expect((await h.request('/metrics', { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await as(alice, '/metrics')).status).toBe(403);
    expect((await as({ key: adminKey }, '/metrics')).status).toBe(200);
    // An admin key in X-API-Key too, and the document lists that scheme (it listed the bearer ones only).
    expect((await h.request('/metrics', { headers: { 'x-api-key': adminKey } })).status).toBe(200);
    const spec = (await (await h.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { security: Record<string, unknown>[] }>> };
    expect(spec.paths['/metrics']!.get!.security.flatMap((s) => Object.keys(s))).toContain('apiKeyHeader');

    const before = await scrape();
    const labels = { method: 'GET', route: '/api/usage', status: '200' };
    const apiAllowed = { bucket: 'api', decision: 'allowed' };
    for (let i = 0; i < 3; i++) expect((await as(alice, '/api/usage')).status).toBe(200);
    expect((await h.request('/api/nowhere')).status).toBe(404);
    const body = await png(33, '#123456');
    const up = await as(alice, '/api/files', { method: 'POST', body, headers: { 'content-type': 'image/png' } });
    const f = ((await up.json()) as { file: { id: string; size: number } }).file;
    expect((await h.request(`/t/w_15,f_webp/${f.id}`)).headers.get('x-cache')).toBe('MISS');
    expect((await h.request(`/t/w_15,f_webp/${f.id}`)).headers.get('x-cache')).toBe('HIT-MEMORY');
    await settle(h);
    const after = await scrape();

    const diff = (name: string, l: Record<string, string> = {}) => sampleSum(after, name, l) - sampleSum(before, name, l);
    expect(diff('pictor_http_requests_total', labels)).toBe(3);
    expect(diff('pictor_http_request_duration_seconds_count', labels)).toBe(3);
    expect(diff('pictor_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(diff('pictor_http_requests_total', { route: '/t/:transformations/:file', status: '200' })).toBe(2);
    expect(diff('pictor_rate_limit_decisions_total', apiAllowed)).toBeGreaterThanOrEqual(4);
    expect(diff('pictor_uploads_total')).toBe(1);
    expect(diff('pictor_upload_bytes_total')).toBe(f.size);
    expect(diff('pictor_transform_duration_seconds_count', { format: 'webp' })).toBe(1);
    expect(diff('pictor_cache_hits_total', { tier: 'memory' })).toBeGreaterThanOrEqual(1);
    expect(diff('pictor_request_logs_written_total')).toBeGreaterThanOrEqual(5);
    expect(sampleValue(after, 'pictor_cache_bytes', { tier: 'memory' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'pictor_transform_queue_depth')).toBe(0);
    expect(sampleValue(after, 'pictor_jobs', { state: 'pending' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(after, 'pictor_db_pool_max_connections')).toBeGreaterThan(0);
    expect(sampleValue(after, 'pictor_request_logs_dropped_total')).toBe(0);
    for (const family of ['pictor_rate_limit_redis_fallbacks_total', 'pictor_cache_misses_total', 'pictor_process_resident_memory_bytes']) {
      expect(after.has(family)).toBe(true);
    }
  }, 60_000);

  test('prune removes entries older than LOG_RETENTION_DAYS only', async () => {
    await as(alice, '/api/files?limit=1');
    await settle(h);
    const now = Date.now();
    const removed = await pruneLogs(h.deps.db, 30, now + 31 * 86_400_000);
    expect(removed).toBeGreaterThan(0);
    await as(alice, '/api/files?limit=2');
    await settle(h);
    expect(await pruneLogs(h.deps.db, 30, now)).toBe(0);
    const left = (await (await as(alice, '/api/logs')).json()) as { count: number };
    expect(left.count).toBeGreaterThan(0);
  }, 30_000);
});
