/**
 * The micro-measurements behind six design choices and one fact of the benchmark machine, so their figures can be re-measured:
 * 1. SHA-256 cost per GiB on one thread (why big uploads hash on a worker: platform/sha256.ts);
 * 2. a worker round trip carrying a transferred 1 MiB ArrayBuffer vs a small message (why
 *    platform/block-worker.ts uses shared memory and sends slot numbers);
 * 3. request-log insert cost per entry on embedded PGlite: a row per entry vs one batch row per
 *    account and the statement size (why modules/logs/table.ts stores batches, 2000 entries per write);
 * 4. draining a 1 GiB request body (64 KiB chunks, as Bun hands it over) next to an open PGlite:
 *    CPU and RSS growth with no collection, a `Bun.gc(false)` request or a young-generation
 *    collection every 16 MiB (why platform/memory.ts collects the young generation during uploads);
 * 5. recording one finished request in the request metrics: prom-client's `Counter.inc` +
 *    `Histogram.observe` with a label object vs `modules/metrics/requests.ts` (why the per-request
 *    families are kept outside prom-client);
 * 6. reading a 1 MiB stored original whole on local disk: `StorageDriver.read` (one read) vs
 *    pulling it through `get` in chunks and concatenating (why renders use `read`);
 * 7. writing 1 GiB into the page cache right after another 1 GiB file was deleted vs 5 s after
 *    (a fact of the machine, not of Pictor: why bench/upload.ts removes each upload right after
 *    measuring it, so every server writes into memory in the same state).
 * Usage: ./node_modules/.bin/bun bench/micro.ts   (about a minute; prints one line per figure)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/db/client';
import { Counter, Histogram, Registry } from 'prom-client';
import { createRequestMetrics } from '../src/modules/metrics/requests';
import { collectYoungGarbage } from '../src/platform/memory';
import { createFsStorage } from '../src/storage/fs';
import { insertLogs } from '../src/modules/logs/service';
import type { NewRequestLog } from '../src/modules/logs/table';

const best = async (runs: number, fn: () => Promise<number> | number) => {
  let min = Infinity;
  for (let i = 0; i < runs; i++) min = Math.min(min, await fn());
  return min;
};

// 1. SHA-256
const block = new Uint8Array(64 * 1024).fill(97);
const hashMs = await best(3, () => {
  const t = performance.now();
  const h = createHash('sha256');
  for (let i = 0; i < 16_384; i++) h.update(block);
  h.digest('hex');
  return performance.now() - t;
});
console.log(`sha256 (node:crypto), one thread: ${(hashMs / 1000).toFixed(2)} s per GiB`);

// 2. worker round trips
const worker = new Worker(new URL('./lib/echo-worker.ts', import.meta.url).href);
const roundTrip = (transfer: boolean) => new Promise<number>((done) => {
  const n = 2000;
  let seen = 0;
  const t = performance.now();
  const send = (buf?: ArrayBuffer) => (transfer && buf ? worker.postMessage({ buf }, [buf]) : worker.postMessage({ slot: 1 }));
  worker.onmessage = (e: MessageEvent<{ buf?: ArrayBuffer }>) => (++seen === n ? done(((performance.now() - t) * 1000) / n) : send(e.data.buf));
  send(transfer ? new ArrayBuffer(1024 * 1024) : undefined);
});
const transferUs = await best(3, () => roundTrip(true));
const smallUs = await best(3, () => roundTrip(false));
worker.terminate();
console.log(`worker round trip: ${transferUs.toFixed(0)} µs with a transferred 1 MiB buffer, ${smallUs.toFixed(0)} µs with a small message`);

// 3. request-log inserts on PGlite
// On disk, as the server runs it (DATA_DIR/pg). The row-per-entry layout the logs used before
// (a scratch table: identity key, (user_id, id) index) against the batch rows of logs/table.ts.
const pgDir = await mkdtemp(join(tmpdir(), 'pictor-micro-'));
const database = await openDatabase({ pgliteDir: pgDir });
const userId = crypto.randomUUID();
const rows: NewRequestLog[] = Array.from({ length: 500 }, (_, i) => ({
  userId, method: 'GET', path: '/api/profile', statusCode: 200, durationMs: i / 7, requestSizeBytes: 0, responseSizeBytes: 300,
  ip: '127.0.0.1', apiKeyPrefix: 'pk_abcdefgh1', createdAt: Date.now(),
}));
await database.db.execute(sql.raw(`create table micro_rows (id bigint generated always as identity primary key, user_id uuid not null,
  method text not null, path text not null, status_code int not null, duration_ms real not null, request_size_bytes bigint,
  response_size_bytes bigint, ip text, api_key_prefix text, created_at timestamptz not null)`));
await database.db.execute(sql.raw('create index on micro_rows (user_id, id desc)'));
const rowPerEntry = () => database.db.execute(sql`insert into micro_rows (user_id, method, path, status_code, duration_ms,
  request_size_bytes, response_size_bytes, ip, api_key_prefix, created_at)
  select * from json_to_recordset(${JSON.stringify(rows.map((r) => ({
    user_id: r.userId, method: r.method, path: r.path, status_code: r.statusCode, duration_ms: r.durationMs, request_size_bytes: r.requestSizeBytes,
    response_size_bytes: r.responseSizeBytes, ip: r.ip, api_key_prefix: r.apiKeyPrefix, created_at: new Date(r.createdAt),
  })))}::json)
  as v(user_id uuid, method text, path text, status_code int, duration_ms real, request_size_bytes bigint,
    response_size_bytes bigint, ip text, api_key_prefix text, created_at timestamptz)`);
const rows2000: NewRequestLog[] = Array.from({ length: 2000 }, (_, i) => ({ ...rows[i % rows.length]!, durationMs: i / 7 }));
const perEntry = (fn: () => Promise<unknown>, entries: number) => best(3, async () => {
  const t = performance.now();
  for (let i = 0; i < 20; i++) await fn();
  return ((performance.now() - t) * 1000) / (20 * entries);
});
const batch500 = () => insertLogs(database.db, rows);
const batch2000 = () => insertLogs(database.db, rows2000);
for (const fn of [rowPerEntry, batch500, batch2000]) await fn(); // warm the statements up
const rowUs = await perEntry(rowPerEntry, rows.length);
const batchUs = await perEntry(batch500, rows.length);
const bigBatchUs = await perEntry(batch2000, rows2000.length);

// 4. request-body garbage next to PGlite (still open: its WebAssembly memory counts as the heap's
// extra memory). A child process posts 1 GiB; this process drains it, collecting by each policy,
// and reports its own CPU and RSS growth while draining. Real request bodies, since chunks the
// runtime allocates natively did not behave like `new Uint8Array` garbage here.
const EVERY = 16 * 1024 * 1024;
let policy: (() => void) | null = null;
let drained: { cpuS: number; growthMiB: number } | null = null;
const sink = Bun.serve({
  hostname: '127.0.0.1', port: 0, maxRequestBodySize: 2 * 1024 ** 3,
  async fetch(req) {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const cpu0 = process.cpuUsage();
    let size = 0;
    for await (const chunk of req.body!) {
      if (Math.floor((size + chunk.byteLength) / EVERY) > Math.floor(size / EVERY)) {
        policy?.();
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      size += chunk.byteLength;
    }
    const cpu = process.cpuUsage(cpu0);
    drained = { cpuS: (cpu.user + cpu.system) / 1e6, growthMiB: (peak - rss0) / 2 ** 20 };
    return new Response(String(size));
  },
});
const poster = `const c = new Uint8Array(1 << 20).fill(97); let n = 0;
  const body = new ReadableStream({ pull(k) { if (n++ === 1024) k.close(); else k.enqueue(c); } }, { highWaterMark: 0 });
  await fetch('http://127.0.0.1:${sink.port}/', { method: 'POST', body, duplex: 'half' });`;
const drain = async (fn: (() => void) | null) => {
  policy = fn;
  await Bun.spawn([process.execPath, '-e', poster], { stdout: 'inherit', stderr: 'inherit' }).exited;
  Bun.gc(true); // leave nothing for the next run
  return drained as { cpuS: number; growthMiB: number };
};
const policies: [string, (() => void) | null][] = [['none', null], ['Bun.gc(false)', () => Bun.gc(false)], ['young generation (collectYoungGarbage)', collectYoungGarbage]];
const garbage: string[] = [];
for (const [name, fn] of policies) {
  const runs = [await drain(fn), await drain(fn), await drain(fn)];
  garbage.push(`${name} ${Math.min(...runs.map((r) => r.cpuS)).toFixed(2)} s CPU, RSS +${Math.max(...runs.map((r) => r.growthMiB)).toFixed(0)} MiB`);
}
sink.stop(true);

await database.close();
await rm(pgDir, { recursive: true, force: true });
console.log(`request-log insert on PGlite: a row per entry ${rowUs.toFixed(1)} µs/entry (500 per statement); batch rows ${batchUs.toFixed(1)} µs/entry with 500 per statement, ${bigBatchUs.toFixed(1)} with 2000`);
console.log(`draining a 1 GiB request body next to PGlite, collecting every 16 MiB (best/worst of 3): ${garbage.join('; ')}`);

// 5. request metrics: the same mix of series and latencies through each recorder.
const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const mix = [['GET', '/t/:transformations/:file', 200], ['GET', '/t/:transformations/:file', 304], ['GET', '/i/:id', 200], ['POST', '/api/files', 201]] as const;
const N = 1_000_000;
const perRequestUs = (record: (method: string, route: string, status: number, seconds: number) => void) => best(3, () => {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const [method, route, status] = mix[i & 3]!;
    record(method, route, status, (i % 97) / 10_000);
  }
  return ((performance.now() - t) * 1000) / N;
});
const promRegistry = new Registry();
const promCount = new Counter({ name: 'c_total', help: 'c', labelNames: ['method', 'route', 'status'] as const, registers: [promRegistry] });
const promHist = new Histogram({ name: 'h', help: 'h', labelNames: ['method', 'route', 'status'] as const, buckets: LATENCY, registers: [promRegistry] });
const promUs = await perRequestUs((method, route, status, seconds) => {
  const labels = { method, route, status: String(status) };
  promCount.inc(labels);
  promHist.observe(labels, seconds);
});
const ours = createRequestMetrics(new Registry(), LATENCY);
const oursUs = await perRequestUs((method, route, status, seconds) => ours.record(method, route, status, seconds));
console.log(`request metrics, per request: prom-client Counter + Histogram ${promUs.toFixed(2)} µs; modules/metrics/requests.ts ${oursUs.toFixed(3)} µs`);

// 6. whole-object reads on local disk (a render's source): one read vs the chunked stream.
const storeDir = await mkdtemp(join(tmpdir(), 'pictor-micro-read-'));
try {
  const store = await createFsStorage(storeDir);
  const original = new Uint8Array(1024 * 1024).map((_, i) => (i * 2654435761) >>> 24);
  await store.put('u/original', new Blob([original]).stream());
  const READS = 200;
  const perReadMs = (fn: () => Promise<unknown>) => best(3, async () => {
    const t = performance.now();
    for (let i = 0; i < READS; i++) await fn();
    return (performance.now() - t) / READS;
  });
  const readMs = await perReadMs(() => store.read('u/original', 2 * 1024 * 1024));
  const streamMs = await perReadMs(async () => Buffer.from(await new Response(await store.get('u/original')).arrayBuffer()));
  console.log(`reading a 1 MiB original on local disk: StorageDriver.read ${readMs.toFixed(2)} ms; through get (256 KiB chunks) ${streamMs.toFixed(2)} ms`);
} finally {
  await rm(storeDir, { recursive: true, force: true });
}

// 7. page-cache writes into memory just freed vs memory left free for a while. Where the VM hands
// free memory back to its host (virtio-balloon free page reporting), touching it again costs a
// host fault per page, charged to whoever writes. CPU of the writing thread, 1 MiB writes.
const pageDir = await mkdtemp(join(tmpdir(), 'pictor-micro-pages-'));
try {
  const { closeSync, openSync, unlinkSync, writeSync } = await import('node:fs');
  const MiB = 1024 * 1024;
  const buf = new Uint8Array(MiB).fill(97);
  const path = join(pageDir, 'f');
  const writeGiB = () => {
    const fd = openSync(path, 'w');
    const c0 = process.cpuUsage();
    for (let i = 0; i < 1024; i++) writeSync(fd, buf, 0, MiB, i * MiB);
    const c = process.cpuUsage(c0);
    closeSync(fd);
    return (c.user + c.system) / 1e6;
  };
  writeGiB();
  const fresh: number[] = [];
  const idle: number[] = [];
  for (let r = 0; r < 3; r++) {
    unlinkSync(path);
    fresh.push(writeGiB());
    unlinkSync(path);
    await Bun.sleep(5000);
    idle.push(writeGiB());
  }
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(`writing 1 GiB of page cache, CPU s: right after 1 GiB was freed ${list(fresh)}; 5 s after ${list(idle)}`);
} finally {
  await rm(pageDir, { recursive: true, force: true });
}
