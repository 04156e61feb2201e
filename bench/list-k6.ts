/**
 * `GET /api/files` under k6 as the quick bench loads it, on one server and without the rest of
 * the bench: a fresh Postgres database seeded with 100 000 rows, Pictor started as the bench
 * starts it (Postgres, Redis, WORKERS=1, the bench's high limits), 200 cursor pages walked
 * round-robin by `get.js` at 4 VUs. Prints, per round, pages/s, p95 and the server's CPU per page
 * (from /proc). `--env=KEY=VALUE,…` adds settings (e.g. `DISABLE_RATE_LIMIT=true`); compare
 * commits by running it alternately from worktrees. Needs k6 (scripts/ensure-tools.sh k6).
 * Usage: ./node_modules/.bin/bun bench/list-k6.ts [--rounds=2] [--seconds=5] [--env=KEY=VALUE,…]
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../test/helpers/services';
import { runK6 } from './lib/k6';
import { startPictor } from './lib/pictor';
import { seedDatabase } from './lib/seed';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rounds = Number(arg('rounds', '2'));
const seconds = Number(arg('seconds', '5'));
const extra = Object.fromEntries(arg('env', '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

/** CPU milliseconds (utime + stime) of process `pid` so far. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const db = await createTestDatabase();
const work = await mkdtemp(join(tmpdir(), 'pictor-list-k6-'));
try {
  const seeded = await seedDatabase({ url: db.url }, 100_000);
  const p = await startPictor({ DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379/9', DATA_DIR: join(work, 'data'), WORKERS: '1', ...extra });
  try {
    const urls: string[] = [];
    let next: string | null = `${p.url}/api/files?limit=50`;
    while (next && urls.length < 200) {
      const res = await fetch(next, { headers: { 'x-api-key': seeded.apiKey } });
      if (res.status !== 200) throw new Error(`GET /api/files → ${res.status}`);
      const page = (await res.json()) as { next_cursor: string | null };
      urls.push(next);
      next = page.next_cursor ? `${p.url}/api/files?limit=50&cursor=${encodeURIComponent(page.next_cursor)}` : null;
    }
    const file = join(work, 'urls.json');
    await writeFile(file, JSON.stringify(urls));
    const env = { URLS_FILE: file, HEADERS: JSON.stringify({ 'X-API-Key': seeded.apiKey }), VUS: 4 };
    await runK6('get.js', { ...env, DURATION: '2s' }); // warm-up, not measured
    console.log(`settings: ${JSON.stringify(extra)}`);
    console.log('| round | pages/s | p95 ms | server CPU µs/page |\n|---:|---:|---:|---:|');
    for (let round = 1; round <= rounds; round++) {
      const c0 = cpuMs(p.pid);
      const r = await runK6('get.js', { ...env, DURATION: `${seconds}s` });
      console.log(`| ${round} | ${r.rps} | ${r.p95_ms} | ${(((cpuMs(p.pid) - c0) * 1000) / r.requests).toFixed(0)} |`);
    }
  } finally {
    await p.stop();
  }
} finally {
  await rm(work, { recursive: true, force: true });
  await db.drop();
}
process.exit(0);
