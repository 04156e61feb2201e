/**
 * Transformations end to end over real HTTP (issue #5 acceptance 4–6): cache tiers across a
 * restart, HEAD, purge and delete honoured by a second server sharing Redis within a second,
 * and overload: a flood of distinct cold URLs gets only 200s and 503s, with RSS bounded.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { quadrants } from '../helpers/images';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, requireRedis, TEST_REDIS_URL, type TestDatabase } from '../helpers/services';

const upload = async (srv: RunningServer, bytes: Buffer, query = ''): Promise<string> => {
  const res = await fetch(`${srv.url}/api/files${query}`, {
    method: 'POST',
    headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'image/jpeg' },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
};

const xCache = async (url: string) => {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.headers.get('x-cache');
};

/** Polls `check` every 20 ms; returns the elapsed milliseconds when it passed, or throws after `ms`. */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await Bun.sleep(20);
  }
  return Date.now() - started;
}

/** Current resident set size of a process, from /proc (VmRSS), in MiB. */
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

describe('derivative cache across processes (Postgres + Redis)', () => {
  let pg: TestDatabase;
  let a: RunningServer;
  let b: RunningServer | undefined;
  let key: string;
  let id: string;
  const env = () => ({ DATABASE_URL: pg.url, REDIS_URL: TEST_REDIS_URL, DISABLE_RATE_LIMIT: 'true' });

  beforeAll(async () => {
    await requireRedis();
    pg = await createTestDatabase();
    a = await startServer({ env: env() });
    key = a.bootstrap?.api_key as string;
    id = await upload(a, await quadrants(600, 400).jpeg().toBuffer());
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await pg?.drop();
  });

  test('MISS → HIT-MEMORY, HEAD answers the headers without a body, restart → HIT-DISK', async () => {
    const url = `${a.url}/t/w_200,f_webp/${id}`;
    expect(await xCache(url)).toBe('MISS');
    expect(await xCache(url)).toBe('HIT-MEMORY');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/webp');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    // The disk write happens off the response path: wait until the disk tier has it.
    await within(20_000, async () => {
      const stats = await fetch(`${a.url}/api/cache/stats`, { headers: { 'x-api-key': key } });
      return ((await stats.json()) as { disk: { items: number } }).disk.items >= 1;
    });

    const dataDir = a.dataDir;
    await a.stop();
    a = await startServer({ env: env(), dataDir });
    const again = `${a.url}/t/w_200,f_webp/${id}`;
    expect(await xCache(again)).toBe('HIT-DISK');
    expect(await xCache(again)).toBe('HIT-MEMORY');
  }, 60_000);

  test('the served app answers memory hits and 304s through the delivery fast path', async () => {
    // The fast path (src/modules/transform/fast.ts) sits in front of the router in the server's handler (app.ts `createHandler`);
    // this checks the *served* process enters through it. (It did not: `app.listen` recompiled
    // the handler and gave the routes to Bun's native router, so it only ran in in-process tests.)
    const metric = async () => {
      const res = await fetch(`${a.url}/metrics`, { headers: { 'x-api-key': key } });
      expect(res.status).toBe(200);
      return sampleValue(parsePrometheus(await res.text()), 'pictor_delivery_fast_path_responses_total') ?? 0;
    };
    const url = `${a.url}/t/w_120,f_webp/${id}`;
    expect(await xCache(url)).toBe('MISS');
    const before = await metric();
    const hit = await fetch(url);
    await hit.arrayBuffer();
    expect(hit.headers.get('x-cache')).toBe('HIT-MEMORY');
    expect(hit.headers.get('x-request-id')).toBeTruthy();
    const etag = hit.headers.get('etag') as string;
    const notModified = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expect(await metric()).toBe(before + 2);
    // If-Modified-Since alone (a cache that kept the date, not the ETag): 304 too, on the fast
    // path and the router's (it sent Last-Modified and then ignored the date); an older date gets the bytes.
    const lastModified = hit.headers.get('last-modified') as string;
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const statusWith = async (u: string, ims: string) => {
      const res = await fetch(u, { headers: { 'if-modified-since': ims } });
      await res.arrayBuffer();
      return res.status;
    };
    expect([await statusWith(url, lastModified), await statusWith(url, earlier)]).toEqual([304, 200]);
    expect(await metric()).toBe(before + 4);
    expect([await statusWith(`${url}?routed`, lastModified), await statusWith(`${url}?routed`, earlier)]).toEqual([304, 200]);
    // A request the fast path declines (a query string) is answered by the router, not counted.
    expect(await xCache(`${url}?routed`)).toBe('HIT-MEMORY');
    expect(await metric()).toBe(before + 4);
  }, 60_000);

  // Neither B's memory cache nor its file lookups (60 s TTL) would change by themselves within
  // the 10 s waited here: only the invalidation bus can. Its speed is not asserted (load).
  test('a purge or a delete on one server is honoured by the other', async () => {
    b = await startServer({ env: env(), dataDir: a.dataDir });
    const onB = `${b.url}/t/w_150,f_png/${id}`;
    await xCache(onB);
    expect(await xCache(onB)).toBe('HIT-MEMORY');

    const purge = await fetch(`${a.url}/api/cache/${id}`, { method: 'DELETE', headers: { 'x-api-key': key } });
    expect(purge.status).toBe(200);
    await within(10_000, async () => (await xCache(onB)) === 'MISS');

    expect(await xCache(onB)).toBe('HIT-MEMORY');
    const del = await fetch(`${a.url}/api/files/${id}`, { method: 'DELETE', headers: { 'x-api-key': key } });
    expect(del.status).toBe(204);
    await within(10_000, async () => (await fetch(onB)).status === 404);
  }, 60_000);
});

describe('overload protection', () => {
  let srv: RunningServer;
  afterAll(() => srv?.close());

  test('300 concurrent distinct cold requests with TRANSFORM_QUEUE=8 → only 200 and 503 + Retry-After; RSS bounded', async () => {
    // QUEUE_CONCURRENCY=0: the upload's eager-preset `derive` job would otherwise take a pool slot
    // during the flood; this test measures what requests alone can do to the pool.
    srv = await startServer({ env: { TRANSFORM_QUEUE: '8', TRANSFORM_CONCURRENCY: '2', DISABLE_RATE_LIMIT: 'true', QUEUE_CONCURRENCY: '0' } });
    const id = await upload(srv, await quadrants(2000, 1500).jpeg().toBuffer());
    const pid = srv.proc.pid as number;
    // (Peak RSS at boot is PGlite's migration, not delivery: sample while the flood runs instead.)
    const baseline = rssMiB(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 25);
    const responses = await Promise.all(
      Array.from({ length: 300 }, (_, i) => fetch(`${srv.url}/t/w_${100 + i},f_webp/${id}`).then(async (r) => {
        const body = await r.arrayBuffer();
        return { status: r.status, retryAfter: r.headers.get('retry-after'), body };
      })),
    );
    clearInterval(sampler);
    const statuses = new Set(responses.map((r) => r.status));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
    const rejected = responses.filter((r) => r.status === 503);
    const served = responses.filter((r) => r.status === 200);
    expect(rejected.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThanOrEqual(10); // 2 running + 8 queued at least
    for (const r of rejected) {
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(new TextDecoder().decode(r.body)).error).toBe('OVERLOADED');
    }
    // Bound: at most 2 renders of a 3 MP source (≈ 2 × 20 MB of pixels) plus 300 small responses;
    // allow 150 MiB over the idle process. (The idle process itself is mostly the embedded
    // PGlite's wasm heap, which varies with the machine's load; it is not what this measures.)
    console.log(`overload: ${served.length} × 200, ${rejected.length} × 503, RSS ${baseline.toFixed(0)} → peak ${peak.toFixed(0)} MiB`);
    expect(peak - baseline).toBeLessThan(150);
    // Still healthy afterwards.
    expect((await fetch(`${srv.url}/t/w_64,f_webp/${id}`)).status).toBe(200);
  }, 120_000);
});
