/**
 * Upload benchmark runner (issue #4 acceptance 8). In one run it streams the same 1 GiB raw body
 * to Pictor (`POST /api/files`, fs driver) and to a minimal Bun server that writes the body to
 * disk (bench/baselines/sink-server.ts: temp file, fsync, rename — the durability Pictor's 201
 * promises), sampling each server's RSS every 50 ms, and reports MB/s, the ratio and Pictor's
 * RSS growth. The same sink without its fsync (page cache only) is measured too and reported
 * for reference. Then it runs the k6 small-file script (200 KB multipart) when k6 is available.
 * The machine may be shared and noisy, so the servers run alternately for `ROUNDS` rounds
 * (default 3) and the median of each is compared.
 * Loopback only; bounded in size and time.   Usage: [ROUNDS=n] [SMALL=0] bash bench/upload.sh [bytes]
 *
 * `STORAGE=s3` stores Pictor's uploads in a MinIO started for the run (test/helpers/minio.ts)
 * instead: the disk sinks are still measured, but the ratio to them says little (MinIO writes
 * on the same two cores), so that mode is about Pictor's MB/s and its RSS growth (< 64 MiB).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMinio } from '../test/helpers/minio';
import { startServer } from '../test/helpers/server';

const ROOT = resolve(import.meta.dir, '..');
const TOTAL = Number(process.argv[2] ?? 1024 ** 3);
const CHUNK = 1024 * 1024;
const ROUNDS = Math.max(1, Number(process.env.ROUNDS ?? 3));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** A body of TOTAL bytes of text (sniffed as text/plain), generated without holding it. */
function body(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(CHUNK).fill(0x61);
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= TOTAL) return c.close();
      const n = Math.min(CHUNK, TOTAL - sent);
      sent += n;
      c.enqueue(n === CHUNK ? chunk : chunk.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

async function measure(label: string, url: string, pid: number, headers: Record<string, string>) {
  // Start each run with no dirty pages left by the previous one (the baseline never fsyncs).
  spawnSync('sync');
  const before = await rssOf(pid);
  let peak = before;
  const timer = setInterval(() => void rssOf(pid).then((r) => (peak = Math.max(peak, r)), () => {}), 50);
  const t0 = performance.now();
  const res = await fetch(url, { method: 'POST', body: body(), headers: { 'content-type': 'text/plain', ...headers }, duplex: 'half' } as RequestInit);
  const text = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  if (res.status !== 201) throw new Error(`${label}: ${res.status} ${text}`);
  const mbps = TOTAL / 1e6 / seconds;
  console.log(`${label.padEnd(9)} ${mbps.toFixed(1)} MB/s  (${seconds.toFixed(2)} s)  RSS before ${(before / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
  return { mbps, growth: peak - before };
}

async function startBaseline(dir: string, ...args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bench/baselines/sink-server.ts'), dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    proc.stdout!.on('data', (d: Buffer) => {
      const m = /"port":(\d+)/.exec(d.toString());
      if (m) res(Number(m[1]));
    });
    proc.once('exit', (c) => rej(new Error(`baseline exited ${c}`)));
  });
  return { proc, port };
}

/** Removes the uploaded objects (not the fs driver's `.tmp`) between rounds. */
async function clearUploads(...dirs: string[]) {
  for (const d of dirs) {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      if (name !== '.tmp') await rm(join(d, name), { recursive: true, force: true });
    }
  }
}

const dir = await mkdtemp(join(tmpdir(), 'pictor-bench-'));
const s3 = process.env.STORAGE === 's3';
const minio = s3 ? await startMinio() : null;
const pictor = await startServer({
  env: {
    MAX_UPLOAD_BYTES: '4GiB', PROMOTED_MAX_UPLOAD_BYTES: '4GiB', STORAGE_QUOTA_BYTES: '100GiB', DISABLE_RATE_LIMIT: 'true',
    ...(minio ? minio.env(await minio.createBucket()) : {}),
  },
  timeoutMs: 120_000, // a loaded machine may take a while to boot PGlite
});
const baseline = await startBaseline(dir);
const cacheOnly = await startBaseline(dir, 'nosync');
try {
  const key = pictor.bootstrap!.api_key;
  console.log(`raw upload of ${(TOTAL / 2 ** 20).toFixed(0)} MiB over loopback${s3 ? ', Pictor storing to MinIO (STORAGE=s3)' : ''}`);
  const bases: number[] = [];
  const cached: number[] = [];
  const ourRuns: { mbps: number; growth: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bases.push((await measure('baseline', `http://127.0.0.1:${baseline.port}/`, baseline.proc.pid!, {})).mbps);
    cached.push((await measure('no-fsync', `http://127.0.0.1:${cacheOnly.port}/`, cacheOnly.proc.pid!, {})).mbps);
    ourRuns.push(await measure('pictor', `${pictor.url}/api/files`, pictor.proc.pid!, { authorization: `Bearer ${key}`, 'x-file-name': 'big.txt' }));
    await clearUploads(join(pictor.dataDir, 'files'), dir); // keep the disk from filling
  }
  const ours = { mbps: median(ourRuns.map((o) => o.mbps)), growth: Math.max(...ourRuns.map((o) => o.growth)) };
  const ratio = ours.mbps / median(bases);
  console.log(`median of ${ROUNDS}: baseline (fsync) ${median(bases).toFixed(1)} MB/s, pictor ${ours.mbps.toFixed(1)} MB/s, ratio ${(ratio * 100).toFixed(0)} % (target ≥ 80 %); pictor max RSS growth ${(ours.growth / 2 ** 20).toFixed(1)} MiB (target < 64 MiB)`);
  console.log(`for reference: the same sink without fsync ${median(cached).toFixed(1)} MB/s (pictor at ${((ours.mbps / median(cached)) * 100).toFixed(0)} % of it)`);
  const k6 = join(process.env.PICTOR_TOOLS_DIR ?? join(process.env.HOME ?? '', '.cache/pictor-tools'), 'bin/k6');
  if (process.env.SMALL !== '0' && await Bun.file(k6).exists()) {
    const run = spawn(k6, ['run', '--quiet', join(ROOT, 'bench/k6/upload-small.js')], {
      stdio: 'inherit', env: { ...process.env, BASE_URL: pictor.url, API_KEY: key },
    });
    await new Promise((r) => run.once('exit', r));
  }
  if ((!s3 && ratio < 0.8) || ours.growth >= 64 * 2 ** 20) process.exitCode = 1;
} finally {
  baseline.proc.kill('SIGKILL');
  cacheOnly.proc.kill('SIGKILL');
  await pictor.close();
  await minio?.stop();
  await rm(dir, { recursive: true, force: true });
}
