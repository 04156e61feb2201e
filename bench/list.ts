/**
 * `GET /api/files` at 100 000 rows, per database: where a page's CPU goes. For each database
 * (`--db=pglite,postgres`) the rows are seeded once; then, in `--rounds` rounds, a server starts
 * on them (limits off, so only the list is measured) and walks the list by cursor (`limit=50`)
 * after one untimed walk, with 1 client and then 4, `--pages` pages each. Reported per walk: the
 * server's CPU per page and, on Postgres, that of the backends serving the bench's database
 * (both from /proc, so other work on the machine does not count), and the page latency p50/p95
 * as the client saw it; then, where strace exists, the server's socket sends per page over one
 * more (untimed) walk. The quick bench's
 * list rows use k6 on the same cores; this walk isolates the server and the database.
 * Usage: ./node_modules/.bin/bun bench/list.ts [--db=pglite,postgres] [--rounds=2] [--pages=800]
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startServer } from '../test/helpers/server';
import { createTestDatabase, type TestDatabase } from '../test/helpers/services';
import { seedDatabase } from './lib/seed';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const kinds = arg('db', 'pglite,postgres').split(',') as ('pglite' | 'postgres')[];
const rounds = Number(arg('rounds', '2'));
const pages = Number(arg('pages', '800'));
const ROWS = 100_000;

/** CPU seconds (utime + stime) of the processes `pids` so far. */
function cpuOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / 100;
    } catch { /* ended meanwhile */ }
  }
  return total;
}

/** The backends serving the database of `url` (the server's pool), from `pg_stat_activity`. */
async function backendsOf(url: string): Promise<number[]> {
  const conn = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await conn<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    return rows.map((r) => r.pid);
  } finally {
    await conn.end();
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

/** Walks `pages` pages by cursor with `clients` clients at once; the latency of each page. */
async function walk(origin: string, apiKey: string, clients: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(Array.from({ length: clients }, async () => {
    let url: string | null = `${origin}/api/files?limit=50`;
    for (let i = 0; i < pages / clients && url; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { 'x-api-key': apiKey } });
      const page = (await res.json()) as { next_cursor?: string | null };
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`GET /api/files → ${res.status}`);
      url = page.next_cursor ? `${origin}/api/files?limit=50&cursor=${encodeURIComponent(page.next_cursor)}` : null;
    }
  }));
  return times;
}

/**
 * Socket sends (`sendto`, `sendmsg`, `writev`) of process `pid` per page while `walkPages` runs,
 * counted by `strace -c` (which slows the server, so this walk is not one of the timed ones); null
 * without strace. A list answer should leave in one send (src/platform/small-body.ts), plus one
 * per database statement on Postgres.
 */
async function sendsPerPage(pid: number, walkPages: () => Promise<number>): Promise<number | null> {
  if (Bun.spawnSync(['sh', '-c', 'command -v strace']).exitCode !== 0) return null;
  const out = join(work, `strace-${pid}.txt`);
  const tracer = Bun.spawn(['strace', '-c', '-f', '-e', 'trace=sendto,sendmsg,writev', '-o', out, '-p', String(pid)], { stderr: 'pipe' });
  const reader = tracer.stderr.getReader();
  for (let seen = ''; !seen.includes('attached');) {
    const { value, done } = await reader.read();
    if (done) return null;
    seen += new TextDecoder().decode(value);
  }
  const walked = await walkPages();
  tracer.kill('SIGINT');
  await tracer.exited;
  const calls = readFileSync(out, 'utf8').split('\n')
    .map((line) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(sendto|sendmsg|writev)$/.exec(line))
    .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
  return calls / walked;
}

const work = await mkdtemp(join(tmpdir(), 'pictor-bench-list-'));
const databases: TestDatabase[] = [];
const lines: string[] = [];
const notes: string[] = [];
try {
  for (const kind of kinds) {
    let seeded: { apiKey: string };
    let env: Record<string, string> = { DISABLE_RATE_LIMIT: 'true' };
    let url = '';
    if (kind === 'postgres') {
      const db = await createTestDatabase();
      databases.push(db);
      url = db.url;
      seeded = await seedDatabase({ url }, ROWS);
      env = { ...env, DATABASE_URL: db.url };
    } else {
      seeded = await seedDatabase({ pgliteDir: join(work, 'seed', 'pg') }, ROWS);
    }
    console.log(`${kind}: seeded ${ROWS} rows; ${rounds} rounds, ${pages} pages per walk`);
    for (let round = 1; round <= rounds; round++) {
      const dataDir = join(work, `${kind}-${round}`);
      if (kind === 'pglite') await cp(join(work, 'seed'), dataDir, { recursive: true });
      // Responses unchecked: the suite's OpenAPI check runs in this process and would take CPU from the server.
      const srv = await startServer({ dataDir, env, checkResponses: false });
      try {
        const server = [srv.proc.pid!];
        await walk(srv.url, seeded.apiKey, 4); // warms the JIT and the database's caches
        for (const clients of [1, 4]) {
          const backends = url ? await backendsOf(url) : [];
          const [s0, d0] = [cpuOf(server), cpuOf(backends)];
          const times = await walk(srv.url, seeded.apiKey, clients);
          const perPage = (seconds: number) => ((seconds * 1000) / times.length).toFixed(2);
          const line = `| ${kind} | ${round} | ${clients} | ${perPage(cpuOf(server) - s0)} | ${kind === 'postgres' ? perPage(cpuOf(backends) - d0) : '—'} | ${pct(times, 50).toFixed(1)} | ${pct(times, 95).toFixed(1)} |`;
          lines.push(line);
          console.log(line);
        }
        const sends = await sendsPerPage(srv.proc.pid!, async () => (await walk(srv.url, seeded.apiKey, 4)).length);
        const note = `${kind} round ${round}: ${sends === null ? 'strace not found, sends not counted' : `${sends.toFixed(1)} socket sends per page (strace, 4 clients)`}`;
        notes.push(note);
        console.log(note);
      } finally {
        await srv.stop(); // SIGTERM first, so a server run with BUN_OPTIONS=--cpu-prof-md writes its profile
        await srv.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
  for (const db of databases) await db.drop();
}

console.log('\n| database | round | clients | server CPU ms/page | Postgres CPU ms/page | p50 ms | p95 ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const line of lines) console.log(line);
console.log();
for (const note of notes) console.log(note);
process.exit(0);
