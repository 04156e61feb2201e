/**
 * Start-up time and idle memory: how long `bun src/main.ts` takes from spawn to its first
 * `/health` 200, on a fresh `DATA_DIR` (embedded PGlite creates its database, migrations run,
 * the bootstrap admin is created) and on a restart over the same data; and the idle RSS of the
 * restarted server once it has settled. The figure used to be an assertion in
 * test/foundation/boot.test.ts, where a loaded machine made it fail; here it is measured.
 * Usage: ./node_modules/.bin/bun bench/startup.ts [--rounds=3] [--settle=3] [--json]
 * (`--json` adds one last line with the medians, which `npm run bench` reads)
 * (`SERVER_ENV='{"DATABASE_URL":"…"}'` adds settings to the server's environment).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configSchema } from '../src/config';
import { freePort, killOwned, rssOf, spawnOwned, stopChild } from './lib/procs';
import { median } from './lib/stats';

const ROOT = resolve(import.meta.dir, '..');
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const rounds = arg('rounds', 3);
const settleS = arg('settle', 3);
const extraEnv = JSON.parse(process.env.SERVER_ENV ?? '{}') as Record<string, string>;

/** Starts the server and polls `/health` every 5 ms; resolves with the child and the ms to the first 200. */
async function timedStart(dataDir: string) {
  const port = await freePort();
  // Like the test helper: no Pictor setting of the caller's shell leaks in.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in configSchema)));
  const t0 = performance.now();
  const child = spawnOwned(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before answering /health`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
    if (ok) return { child, ms: performance.now() - t0 };
    await Bun.sleep(5);
  }
}

/** The median; of an even count, the mean of the middle two (`--quick` runs 2 rounds: not the larger one). */
const fresh: number[] = [];
const restart: number[] = [];
const rss: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'pictor-startup-'));
    try {
      const first = await timedStart(dataDir);
      fresh.push(first.ms);
      await stopChild(first.child);
      const second = await timedStart(dataDir);
      restart.push(second.ms);
      await Bun.sleep(settleS * 1000); // first timers and lazy initialisation are not the idle footprint
      rss.push(rssOf(second.child.pid!) / 2 ** 20);
      await stopChild(second.child);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(', ');
  console.log(`first /health 200, fresh DATA_DIR: median ${median(fresh).toFixed(0)} ms (${list(fresh, 0)})`);
  console.log(`first /health 200, restart:         median ${median(restart).toFixed(0)} ms (${list(restart, 0)})`);
  console.log(`idle RSS after ${settleS} s:              median ${median(rss).toFixed(1)} MiB (${list(rss, 1)})`);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ fresh_ms: Math.round(median(fresh)), restart_ms: Math.round(median(restart)), idle_rss_mib: Math.round(median(rss) * 10) / 10, rounds }));
  }
} finally {
  killOwned();
}
