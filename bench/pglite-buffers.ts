/**
 * Embedded PGlite's `shared_buffers` (PGLITE_SHARED_BUFFERS): what each size costs in resident
 * memory and what it saves on `GET /api/files`. One PGlite directory with 100 000 file rows is
 * seeded once; then, for each size in alternating rounds, a server starts on a copy of it and
 * walks the list by cursor (`limit=50`, `--pages` pages, twice: the first walk warms the
 * buffers). Reported per size: the server's idle RSS before the walk, its RSS after, the server
 * CPU per page of the second walk (from /proc, so other work on the machine does not count) and
 * the page latency p50/p95 as the client saw it.
 * Usage: ./node_modules/.bin/bun bench/pglite-buffers.ts [--sizes=16MiB,32MiB,128MiB] [--rounds=2] [--pages=300]
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../test/helpers/server';
import { rssOf } from './lib/procs';
import { seedPglite } from './lib/seed';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const sizes = arg('sizes', '16MiB,32MiB,128MiB').split(',');
const rounds = Number(arg('rounds', '2'));
const pages = Number(arg('pages', '300'));
const MiB = 1024 * 1024;

/** CPU seconds (utime + stime) of a process so far. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

const work = await mkdtemp(join(tmpdir(), 'pictor-pglite-buffers-'));
const results = new Map<string, { idle: number[]; after: number[]; cpuMs: number[]; p50: number[]; p95: number[] }>();
try {
  const seeded = await seedPglite(join(work, 'seed', 'pg'), 100_000);
  console.log(`seeded 100 000 rows; sizes ${sizes.join(', ')}, ${rounds} rounds, ${pages} pages per walk`);
  for (let round = 1; round <= rounds; round++) {
    for (const size of sizes) {
      const dataDir = join(work, `r${round}-${size}`);
      await cp(join(work, 'seed'), dataDir, { recursive: true });
      const srv = await startServer({ dataDir, env: { PGLITE_SHARED_BUFFERS: size } });
      try {
        const pid = srv.proc.pid!;
        await Bun.sleep(2000);
        const idle = rssOf(pid);
        const walk = async () => {
          const times: number[] = [];
          let url: string | null = `${srv.url}/api/files?limit=50`;
          for (let i = 0; i < pages && url; i++) {
            const t0 = performance.now();
            const res = await fetch(url, { headers: { 'x-api-key': seeded.apiKey } });
            const page = (await res.json()) as { next_cursor?: string | null };
            times.push(performance.now() - t0);
            if (res.status !== 200) throw new Error(`GET /api/files → ${res.status}`);
            url = page.next_cursor ? `${srv.url}/api/files?limit=50&cursor=${encodeURIComponent(page.next_cursor)}` : null;
          }
          return times;
        };
        await walk();
        const cpu0 = cpuOf(pid);
        const times = await walk();
        const cpuMs = ((cpuOf(pid) - cpu0) * 1000) / times.length;
        const r = results.get(size) ?? { idle: [], after: [], cpuMs: [], p50: [], p95: [] };
        r.idle.push(idle / MiB);
        r.after.push(rssOf(pid) / MiB);
        r.cpuMs.push(cpuMs);
        r.p50.push(pct(times, 50));
        r.p95.push(pct(times, 95));
        results.set(size, r);
        console.log(`round ${round} ${size}: idle RSS ${(idle / MiB).toFixed(1)} MiB, after ${(rssOf(pid) / MiB).toFixed(1)} MiB; server CPU ${cpuMs.toFixed(2)} ms/page; p50 ${pct(times, 50).toFixed(2)} ms, p95 ${pct(times, 95).toFixed(2)} ms`);
      } finally {
        await srv.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const f = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
console.log('\n| shared_buffers | idle RSS MiB | RSS after the walks MiB | server CPU ms/page | p50 ms | p95 ms |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [size, r] of results) console.log(`| ${size} | ${f(r.idle)} | ${f(r.after)} | ${r.cpuMs.map((x) => x.toFixed(2)).join(', ')} | ${f(r.p50)} | ${f(r.p95)} |`);
process.exit(0);
