/**
 * Memory under made-up input: floods of anonymous requests in which every request differs in
 * what a client chooses freely, and the server's RSS growth at the end of the flood and 5 s later
 * (what stays). Scenarios, each on the same server, one after the other:
 * - `accept`: one public `/t` URL, each request with its own 12 KB `Accept` header (the delivery
 *   fast path keyed its memo by the raw header);
 * - `long-id`: `/t/w_10/<id>` with a different made-up 8 KB id each time (the file lookup
 *   remembered each miss by the id as sent).
 * Target: at most 32 MiB retained 5 s after each flood.
 *
 *   ./node_modules/.bin/bun bench/hostile-memory.ts [--roots=<checkout>,<checkout>] [--requests=10000]
 *
 * `--roots` runs other checkouts too (each needs its own `node_modules`, e.g. a symlink), so a
 * change's before and after come from one run. Exits 1 when a bound is passed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { configSchema } from '../src/config';
import { freePort, rssOf, stopChild } from './lib/procs';
import { BENCH_LIMITS, ROOT } from './lib/pictor';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const roots = (arg('roots') ?? ROOT).split(',');
const REQUESTS = Number(arg('requests') ?? 10_000);
const CONCURRENCY = 50;
const RETAINED_BOUND_MIB = 32;
const mib = (bytes: number) => bytes / (1024 * 1024);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(root: string) {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-hostile-memory-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in configSchema)));
  const proc = spawn(join(root, 'node_modules/.bin/bun'), ['src/main.ts'], {
    cwd: root,
    env: { ...inherited, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info', ...BENCH_LIMITS },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const apiKey = await new Promise<string>((ok, fail) => {
    proc.once('exit', (code) => fail(new Error(`server in ${root} exited (${code}): ${out.slice(-500)}`)));
    let key = '';
    let ready = false;
    proc.stdout!.on('data', (d: Buffer) => {
      if (ready) return; // read and dropped: the pipe must not fill
      out += d.toString();
      for (const line of out.split('\n')) {
        try {
          const j = JSON.parse(line) as { msg?: string; bootstrap?: { api_key: string } };
          if (j.bootstrap) key = j.bootstrap.api_key;
          if (j.msg === 'listening') {
            ready = true;
            ok(key);
          }
        } catch { /* a partial line */ }
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, apiKey, proc, dataDir };
}

/** Sends `n` GETs, `CONCURRENCY` at a time; `init(i)` makes the i-th. Returns the statuses seen. */
async function flood(n: number, init: (i: number) => { path: string; headers?: Record<string, string> }, base: string) {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) {
      const { path, headers } = init(next++);
      const res = await fetch(`${base}${path}`, { headers });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }));
  return statuses;
}

/** A checkout as its commit (and a `+` when it has uncommitted changes). */
const commitOf = (root: string) => {
  const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  return execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() ? `${head}+` : head;
};

interface Row { root: string; scenario: string; statuses: Record<number, number>; atEnd: number; retained: number }
const rows: Row[] = [];
for (const root of roots) {
  const s = await start(root);
  try {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a6' } }).png().toBuffer();
    const up = await fetch(`${s.url}/api/files`, { method: 'POST', body: new Uint8Array(png), headers: { authorization: `Bearer ${s.apiKey}`, 'content-type': 'image/png' } });
    if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
    const id = ((await up.json()) as { file: { id: string } }).file.id;
    for (let i = 0; i < 3; i++) await (await fetch(`${s.url}/t/w_10/${id}`)).arrayBuffer();
    const pad = 'x'.repeat(12_000);
    const longId = 'A'.repeat(8_000);
    const scenarios: [string, (i: number) => { path: string; headers?: Record<string, string> }][] = [
      ['accept', (i) => ({ path: `/t/w_10/${id}`, headers: { accept: `image/webp;q=0.9,${pad}${i}` } })],
      ['long-id', (i) => ({ path: `/t/w_10/${longId}${i}` })],
    ];
    for (const [scenario, init] of scenarios) {
      await sleep(3000);
      const before = rssOf(s.proc.pid!);
      const statuses = await flood(REQUESTS, init, s.url);
      const atEnd = rssOf(s.proc.pid!) - before;
      await sleep(5000);
      const retained = rssOf(s.proc.pid!) - before;
      rows.push({ root: commitOf(root), scenario, statuses, atEnd, retained });
      console.log(`${commitOf(root)} ${scenario}: ${JSON.stringify(statuses)}, RSS +${mib(atEnd).toFixed(1)} MiB at the end, +${mib(retained).toFixed(1)} MiB 5 s later`);
    }
  } finally {
    await stopChild(s.proc);
    await rm(s.dataDir, { recursive: true, force: true });
  }
}

console.log(`\n${REQUESTS} requests per flood, ${CONCURRENCY} at a time\n\n| checkout | flood | statuses | RSS growth at the end | retained 5 s later (≤ ${RETAINED_BOUND_MIB} MiB) |\n|---|---|---|---|---|`);
for (const r of rows) {
  const ok = mib(r.retained) <= RETAINED_BOUND_MIB;
  console.log(`| ${r.root} | ${r.scenario} | ${Object.entries(r.statuses).map(([k, v]) => `${k}×${v}`).join(' ')} | ${mib(r.atEnd).toFixed(1)} MiB | ${mib(r.retained).toFixed(1)} MiB ${ok ? '✓' : '✗'} |`);
}
process.exit(rows.every((r) => mib(r.retained) <= RETAINED_BOUND_MIB) ? 0 : 1);
