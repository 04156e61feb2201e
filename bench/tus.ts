/**
 * tus benchmark (issue #22 acceptance 5). In one run, per storage driver (fs, then S3 on a MinIO
 * started for the run): the same 1 GiB body as a raw `POST /api/files` and as a tus upload in
 * 16 MiB PATCHes (`/api/uploads/tus`), alternating for `ROUNDS` rounds (default 2) after a warm-up,
 * sampling the server's RSS every 50 ms. Reports MB/s, the tus/raw throughput ratio (target
 * ≥ 0.8) and the RSS growth of each upload (target < 64 MiB), and the server's CPU per GiB by thread
 * (the request thread is `bun.exe`). Each file is deleted after it is measured. Loopback only.   Usage: [ROUNDS=n] [DRIVERS=fs,s3] [CHUNK_MIB=16] bun bench/tus.ts [bytes]
 * (CHUNK_MIB: the PATCH size; Uppy's default is 50 MiB, tus-js-client's unbounded)
 *
 * On fs the same rounds also measure a minimal server doing both (bench/baselines/tus-sink-server.ts:
 * a raw body to a file, or PATCHes written at their offset, each made durable before its answer,
 * and nothing else), whose tus/raw ratio is the ceiling of any durable tus server on this machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

/** Where one server takes raw and tus uploads, and how to remove what it stored. */
interface Side {
  pid: number;
  origin: string;
  rawPath: string;
  tusPath: string;
  headers: Record<string, string>;
  remove(id: string): Promise<void>;
}

async function raw(side: Side): Promise<string> {
  const res = await send(`${side.origin}${side.rawPath}`, {
    method: 'POST', body: body(TOTAL), headers: { ...side.headers, 'content-type': 'text/plain', 'content-length': String(TOTAL) },
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`raw: ${res.status} ${text}`);
  return (JSON.parse(text) as { file?: { id: string } }).file?.id ?? '';
}

async function tus(side: Side): Promise<string> {
  const h = { ...side.headers, 'tus-resumable': '1.0.0' };
  const created = await fetch(`${side.origin}${side.tusPath}`, { method: 'POST', headers: { ...h, 'upload-length': String(TOTAL) } });
  if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
  const url = `${side.origin}${created.headers.get('location')}`;
  for (let offset = 0; offset < TOTAL;) {
    const n = Math.min(TUS_CHUNK, TOTAL - offset);
    const res = await send(url, {
      method: 'PATCH', body: body(n),
      headers: { ...h, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(n) },
    });
    if (res.status !== 204) throw new Error(`tus patch at ${offset}: ${res.status} ${await res.text()}`);
    offset = Number(res.headers.get('upload-offset'));
    if (offset === TOTAL) return res.headers.get('x-file-id') ?? '';
  }
  throw new Error('tus: never completed');
}

async function measure(label: string, side: Side, run: (s: Side) => Promise<string>) {
  spawnSync('sync');
  const pid = side.pid;
  const before = rssOf(pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  const cpu0 = threadCpu(pid);
  const t0 = performance.now();
  let id: string;
  try {
    id = await run(side);
  } finally {
    clearInterval(timer);
  }
  const s = (performance.now() - t0) / 1000;
  const mbps = TOTAL / MiB / s;
  const growth = (peak - before) / MiB;
  console.log(`  ${label.padEnd(9)} ${mbps.toFixed(1).padStart(7)} MB/s  RSS ${(before / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB (growth ${growth.toFixed(1)} MiB)`);
  const gib = TOTAL / 1024 ** 3;
  const cpu = threadCpuBetween(cpu0, threadCpu(pid)).slice(0, 5).map(([name, secs]) => `${name} ${(secs / gib).toFixed(2)}`).join(', ');
  console.log(`            CPU s/GiB by thread: ${cpu}`);
  await side.remove(id);
  return { mbps, growth };
}

/** The minimal durable raw-and-tus server (fs only), in a directory of its own. */
async function startSink(): Promise<Side & { stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-tus-sink-'));
  const proc = spawn(process.execPath, [resolve(import.meta.dir, 'baselines/tus-sink-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const m = /"port":(\d+)/.exec(d.toString());
      if (m) ok(Number(m[1]));
    });
    proc.once('exit', (c) => fail(new Error(`tus sink exited ${c}`)));
  });
  return {
    pid: proc.pid!, origin: `http://127.0.0.1:${port}`, rawPath: '/raw', tusPath: '/tus', headers: {},
    remove: async () => {
      for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
    },
    stop: async () => {
      proc.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let minio: Minio | undefined;
try {
  for (const driver of DRIVERS) {
    let env: Record<string, string> = {};
    if (driver === 's3') {
      minio ??= await startMinio();
      env = minio.env(await minio.createBucket());
    }
    const srv = await startServer({ env: { ...env, MAX_UPLOAD_BYTES: '4GiB', PROMOTED_MAX_UPLOAD_BYTES: '4GiB', STORAGE_QUOTA_BYTES: '1TiB', DISABLE_RATE_LIMIT: 'true' } });
    const sink = driver === 'fs' ? await startSink() : null;
    try {
      const key = srv.bootstrap!.api_key;
      const pictor: Side = {
        pid: srv.proc.pid as number, origin: srv.url, rawPath: '/api/files', tusPath: '/api/uploads/tus', headers: { authorization: `Bearer ${key}` },
        remove: async (id) => {
          const del = await fetch(`${srv.url}/api/files/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
          if (del.status !== 204) throw new Error(`delete: ${del.status}`);
        },
      };
      console.log(`${driver}: ${(TOTAL / MiB).toFixed(0)} MiB, tus in ${TUS_CHUNK / MiB} MiB chunks, ${ROUNDS} rounds after a warm-up${sink ? ', with the minimal durable sink (tus-sink-server.ts)' : ''}`);
      type Kind = 'raw' | 'tus' | 'sink raw' | 'sink tus';
      const runs: Record<Kind, () => Promise<{ mbps: number; growth: number }>> = {
        raw: () => measure('raw', pictor, raw),
        tus: () => measure('tus', pictor, tus),
        'sink raw': () => measure('sink raw', sink!, raw),
        'sink tus': () => measure('sink tus', sink!, tus),
      };
      const kinds: Kind[] = sink ? ['raw', 'tus', 'sink raw', 'sink tus'] : ['raw', 'tus'];
      for (const k of kinds) await runs[k](); // warm-ups, not counted
      const results = Object.fromEntries(kinds.map((k) => [k, [] as { mbps: number; growth: number }[]])) as Record<Kind, { mbps: number; growth: number }[]>;
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? kinds : [...kinds].reverse();
        for (const which of order) results[which].push(await runs[which]());
      }
      const mbps = (k: Kind) => median(results[k].map((x) => x.mbps));
      const growth = Math.max(...results.tus.map((x) => x.growth));
      console.log(`${driver}: median raw ${mbps('raw').toFixed(1)} MB/s, tus ${mbps('tus').toFixed(1)} MB/s, ratio ${(mbps('tus') / mbps('raw')).toFixed(2)} (target ≥ 0.8); tus RSS growth max ${growth.toFixed(1)} MiB (target < 64)`);
      if (sink) {
        console.log(`${driver}: minimal durable sink raw ${mbps('sink raw').toFixed(1)} MB/s, tus ${mbps('sink tus').toFixed(1)} MB/s, ratio ${(mbps('sink tus') / mbps('sink raw')).toFixed(2)} (the ceiling of a durable tus server here); Pictor tus / sink tus ${(mbps('tus') / mbps('sink tus')).toFixed(2)} (proposed target ≥ 0.8), Pictor raw / sink raw ${(mbps('raw') / mbps('sink raw')).toFixed(2)}`);
      }
    } finally {
      await sink?.stop();
      await srv.close();
    }
  }
} finally {
  await minio?.stop();
}
