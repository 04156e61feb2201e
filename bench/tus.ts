/**
 * tus benchmark (issue #22 acceptance 5). In one run, per storage driver (fs, then S3 on a MinIO
 * started for the run): the same 1 GiB body as a raw `POST /api/files` and as a tus upload in
 * 16 MiB PATCHes (`/api/uploads/tus`), alternating for `ROUNDS` rounds (default 2) after a warm-up,
 * sampling the server's RSS every 50 ms. Reports MB/s, the tus/raw throughput ratio (target
 * ≥ 0.8) and the RSS growth of each upload (target < 64 MiB), and the server's CPU per GiB by thread
 * (the request thread is `bun.exe`). Each file is deleted after it is measured. Loopback only.   Usage: [ROUNDS=n] [DRIVERS=fs,s3] [CHUNK_MIB=16] bun bench/tus.ts [bytes]
 * (CHUNK_MIB: the PATCH size; Uppy's default is 50 MiB, tus-js-client's unbounded)
 */
import { spawnSync } from 'node:child_process';
import { startMinio, type Minio } from '../test/helpers/minio';
import { startServer, type RunningServer } from '../test/helpers/server';
import { rssOf, threadCpu, threadCpuBetween } from './lib/procs';
import { median } from './lib/stats';

const TOTAL = Number(process.argv[2] ?? 1024 ** 3);
const TUS_CHUNK = Number(process.env.CHUNK_MIB ?? 16) * 1024 * 1024;
const BLOCK = 1024 * 1024;
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 2));
const DRIVERS = (process.env.DRIVERS ?? 'fs,s3').split(',') as ('fs' | 's3')[];
const MiB = 1024 * 1024;

/** `total` bytes of text (sniffed as text/plain), generated without holding them. */
function body(total: number): ReadableStream<Uint8Array> {
  const block = new Uint8Array(BLOCK).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(BLOCK, total - sent);
      sent += n;
      c.enqueue(n === BLOCK ? block : block.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

const send = (url: string, init: RequestInit & { body?: ReadableStream<Uint8Array> }) =>
  fetch(url, { ...init, ...(init.body ? { duplex: 'half' } : {}) } as RequestInit);

async function raw(srv: RunningServer, key: string): Promise<string> {
  const res = await send(`${srv.url}/api/files`, {
    method: 'POST', body: body(TOTAL), headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain', 'content-length': String(TOTAL) },
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`raw: ${res.status} ${text}`);
  return (JSON.parse(text) as { file: { id: string } }).file.id;
}

async function tus(srv: RunningServer, key: string): Promise<string> {
  const h = { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0' };
  const created = await fetch(`${srv.url}/api/uploads/tus`, { method: 'POST', headers: { ...h, 'upload-length': String(TOTAL) } });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
  const url = `${srv.url}${created.headers.get('location')}`;
  for (let offset = 0; offset < TOTAL;) {
    const n = Math.min(TUS_CHUNK, TOTAL - offset);
    const res = await send(url, {
      method: 'PATCH', body: body(n),
      headers: { ...h, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(n) },
    });
    if (res.status !== 204) throw new Error(`tus patch at ${offset}: ${res.status} ${await res.text()}`);
    offset = Number(res.headers.get('upload-offset'));
    if (offset === TOTAL) return res.headers.get('x-file-id') as string;
  }
  throw new Error('tus: never completed');
}

async function measure(label: string, srv: RunningServer, key: string, run: (s: RunningServer, k: string) => Promise<string>) {
  spawnSync('sync');
  const pid = srv.proc.pid as number;
  const before = rssOf(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  const cpu0 = threadCpu(pid);
  const t0 = performance.now();
  let id: string;
  try {
    id = await run(srv, key);
  } finally {
    clearInterval(timer);
  }
  const s = (performance.now() - t0) / 1000;
  const mbps = TOTAL / MiB / s;
  const growth = (peak - before) / MiB;
  console.log(`  ${label.padEnd(4)} ${mbps.toFixed(1).padStart(7)} MB/s  RSS ${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB (growth ${growth.toFixed(1)} MiB)`);
  const gib = TOTAL / 1024 ** 3;
  const cpu = threadCpuBetween(cpu0, threadCpu(pid)).slice(0, 5).map(([name, secs]) => `${name} ${(secs / gib).toFixed(2)}`).join(', ');
  console.log(`       CPU s/GiB by thread: ${cpu}`);
  const del = await fetch(`${srv.url}/api/files/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
  if (del.status !== 204) throw new Error(`delete: ${del.status}`);
  return { mbps, growth };
}

let minio: Minio | undefined;
try {
  for (const driver of DRIVERS) {
    let env: Record<string, string> = {};
    if (driver === 's3') {
      minio ??= await startMinio();
      env = minio.env(await minio.createBucket());
    }
    const srv = await startServer({ env: { ...env, MAX_UPLOAD_BYTES: '4GiB', STORAGE_QUOTA_BYTES: '1TiB', DISABLE_RATE_LIMIT: 'true' } });
    try {
      const key = srv.bootstrap!.api_key;
      console.log(`${driver}: ${(TOTAL / MiB).toFixed(0)} MiB, tus in ${TUS_CHUNK / MiB} MiB chunks, ${ROUNDS} rounds after a warm-up`);
      const warm = { raw: (s: RunningServer, k: string) => raw(s, k), tus: (s: RunningServer, k: string) => tus(s, k) };
      await measure('warm', srv, key, warm.raw);
      await measure('warm', srv, key, warm.tus);
      const results: Record<'raw' | 'tus', { mbps: number; growth: number }[]> = { raw: [], tus: [] };
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? (['raw', 'tus'] as const) : (['tus', 'raw'] as const);
        for (const which of order) results[which].push(await measure(which, srv, key, warm[which]));
      }
      const rawMbps = median(results.raw.map((x) => x.mbps));
      const tusMbps = median(results.tus.map((x) => x.mbps));
      const growth = Math.max(...results.tus.map((x) => x.growth));
      console.log(`${driver}: median raw ${rawMbps.toFixed(1)} MB/s, tus ${tusMbps.toFixed(1)} MB/s, ratio ${(tusMbps / rawMbps).toFixed(2)} (target ≥ 0.8); tus RSS growth max ${growth.toFixed(1)} MiB (target < 64)`);
    } finally {
      await srv.close();
    }
  }
} finally {
  await minio?.stop();
}
