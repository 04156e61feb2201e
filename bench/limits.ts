/**
 * Limiter cost on the hottest path (limiter issue, acceptance 7): `/t` cache hits with the
 * `public` bucket on, backed by Redis, versus the same server with `DISABLE_RATE_LIMIT=true`,
 * in one run, alternating variants (on, off, on, off) to even out machine noise.
 * Prints req/s and p99 of each and the ratio; exits 1 when on/off < 0.8.
 *
 *   ./bench/limits.sh            (VUS=16 DURATION=10s ROUNDS=2 REDIS_URL=redis://127.0.0.1:6379)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

const ROOT = resolve(import.meta.dir, '..');
const K6 = process.env.K6 ?? join(process.env.HOME ?? '', '.cache/pictor-tools/bin/k6');
const VUS = process.env.VUS ?? '16';
const DURATION = process.env.DURATION ?? '10s';
const ROUNDS = Number(process.env.ROUNDS ?? '2');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Server { url: string; apiKey: string; proc: ChildProcess; dir: string }

async function startServer(env: Record<string, string>): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-bench-limits-'));
  const proc = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'info', RATE_LIMIT_PUBLIC: '100000000/60s', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  let apiKey = '';
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${buf.slice(-2000)}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number; bootstrap?: { api_key: string } };
          if (j.bootstrap) apiKey = j.bootstrap.api_key;
          if (j.msg === 'listening' && j.port) {
            clearTimeout(timer);
            ok(j.port);
          }
        } catch { /* partial line */ }
      }
    });
    proc.once('exit', (code) => fail(new Error(`server exited (${code}):\n${buf.slice(-2000)}`)));
  });
  return { url: `http://127.0.0.1:${port}`, apiKey, proc, dir };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await exited;
  await rm(s.dir, { recursive: true, force: true });
}

/** Uploads a generated public image and warms one derivative; returns its `/t` URL. */
async function prepare(s: Server): Promise<string> {
  const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6' } }).png().toBuffer();
  const res = await fetch(`${s.url}/api/files?is_public=true`, { method: 'POST', headers: { 'x-api-key': s.apiKey, 'content-type': 'image/png' }, body: png });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  const { file } = (await res.json()) as { file: { id: string } };
  const url = `${s.url}/t/w_64/${file.id}`;
  for (let i = 0; i < 3; i++) {
    const r = await fetch(url);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`warm-up ${url} → ${r.status}`);
  }
  return url;
}

interface Result { rps: number; p99: number }

async function runK6(url: string, label: string): Promise<Result> {
  const summary = join(tmpdir(), `pictor-bench-limits-${label}-${process.pid}.json`);
  const proc = spawn(K6, ['run', '--quiet', '--address', '127.0.0.1:0', '--summary-export', summary, '-e', `URL=${url}`, '-e', `VUS=${VUS}`, '-e', `DURATION=${DURATION}`, join(ROOT, 'bench/k6/limits.js')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`k6 failed (${code}) for ${label}`);
  const j = JSON.parse(await readFile(summary, 'utf8')) as { metrics: Record<string, Record<string, number>> };
  await rm(summary, { force: true });
  return { rps: j.metrics.http_reqs!.rate!, p99: j.metrics.http_req_duration!['p(99)']! };
}

const variants = {
  'public bucket on (Redis)': { REDIS_URL },
  'DISABLE_RATE_LIMIT=true': { REDIS_URL, DISABLE_RATE_LIMIT: 'true' },
} as const;
const results: Record<string, Result[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, env] of Object.entries(variants)) {
    const server = await startServer(env);
    try {
      const url = await prepare(server);
      const r = await runK6(url, label.replace(/\W+/g, '_'));
      (results[label] ??= []).push(r);
      console.log(`round ${round + 1} ${label}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms`);
    } finally {
      await stopServer(server);
    }
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const [on, off] = Object.keys(variants).map((k) => ({ rps: mean(results[k]!.map((r) => r.rps)), p99: mean(results[k]!.map((r) => r.p99)) }));
const ratio = on!.rps / off!.rps;
console.log(`\n| variant | req/s | p99 ms |\n|---|---|---|`);
Object.keys(variants).forEach((k, i) => console.log(`| ${k} | ${[on, off][i]!.rps.toFixed(0)} | ${[on, off][i]!.p99.toFixed(2)} |`));
console.log(`\non/off req/s ratio: ${ratio.toFixed(3)} (target ≥ 0.8); VUS=${VUS} DURATION=${DURATION} ROUNDS=${ROUNDS}`);
process.exit(ratio >= 0.8 ? 0 : 1);
