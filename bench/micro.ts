/**
 * The micro-measurements behind three design choices, so their figures can be re-measured:
 * 1. SHA-256 cost per GiB on one thread (why big uploads hash on a worker: platform/sha256.ts);
 * 2. a worker round trip carrying a transferred 1 MiB ArrayBuffer vs a small message (why
 *    platform/block-worker.ts uses shared memory and sends slot numbers);
 * 3. request-log batch insert per row on embedded PGlite: the `json_to_recordset` statement
 *    (Postgres path) vs `COPY … FROM STDIN` (PGlite path; modules/logs/service.ts).
 * Usage: ./node_modules/.bin/bun bench/micro.ts   (about 20 s; prints one line per figure)
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/client';
import { insertLogs, insertLogsJson } from '../src/modules/logs/service';
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
// On disk, as the server runs it (DATA_DIR/pg).
const pgDir = await mkdtemp(join(tmpdir(), 'pictor-micro-'));
const database = await openDatabase({ pgliteDir: pgDir });
const userId = crypto.randomUUID();
const rows: NewRequestLog[] = Array.from({ length: 2000 }, (_, i) => ({
  userId, method: 'GET', path: '/api/profile', statusCode: 200, durationMs: i / 7, requestSizeBytes: 0, responseSizeBytes: 300,
  ip: '127.0.0.1', apiKeyPrefix: 'pk_abcdefgh1', createdAt: new Date(),
}));
const jsonInsert = () => insertLogsJson(database.db, rows);
const perRow = (fn: () => Promise<void>) => best(3, async () => {
  const t = performance.now();
  for (let i = 0; i < 5; i++) await fn();
  return ((performance.now() - t) * 1000) / (5 * rows.length);
});
await jsonInsert(); // warm both statements up
await insertLogs(database, rows);
const jsonUs = await perRow(jsonInsert);
const copyUs = await perRow(() => insertLogs(database, rows));
await database.close();
await rm(pgDir, { recursive: true, force: true });
console.log(`request-log insert on PGlite, 2000-row batches: json_to_recordset ${jsonUs.toFixed(1)} µs/row, COPY ${copyUs.toFixed(1)} µs/row`);
