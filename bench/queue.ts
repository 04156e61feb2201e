/**
 * Queue throughput on Postgres (acceptance 7 of the queue issue): enqueue + claim + complete of
 * no-op jobs, end to end, in one process (producers and the worker share the pool, as in the
 * API process). Same-run baseline: plain single-row INSERTs at the same concurrency, so the
 * ratio says what the queue's bookkeeping (job row, events, claim, lease, completion) costs.
 *
 *   bun bench/queue.ts [--jobs 5000] [--concurrency 16] [--producers 8] [--batch 1]
 */
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config';
import { buildDeps } from '../src/compose';
import { createLogger } from '../src/logger';
import { enqueueJobs } from '../src/modules/queue/enqueue';
import { queryRows } from '../src/modules/queue/sql';
import { createTestDatabase } from '../test/helpers/services';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const JOBS = Math.min(arg('jobs', 5000), 100_000);
const CONCURRENCY = arg('concurrency', 16);
const PRODUCERS = arg('producers', 8);
const BATCH = Math.max(1, arg('batch', 1));

const pg = await createTestDatabase();
const config = loadConfig({
  DATABASE_URL: pg.url,
  DATABASE_POOL: '20',
  DATA_DIR: `/tmp/pictor-bench-queue-${process.pid}`,
  LOG_LEVEL: 'warn',
  QUEUE_CONCURRENCY: String(CONCURRENCY),
  QUEUE_POLL_MS: '100',
});
const deps = await buildDeps(config, createLogger('warn'));
try {
  /** Runs `total` units split across PRODUCERS loops; returns units/s. */
  const drive = async (total: number, unit: (i: number) => Promise<unknown>) => {
    let next = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: PRODUCERS }, async () => {
      for (let i = next++; i < total; i = next++) await unit(i);
    }));
    return { ms: performance.now() - started };
  };

  // Baseline: the same number of single-row inserts at the same producer concurrency.
  await deps.db.execute(sql`create table bench_baseline (id bigserial primary key, payload jsonb not null)`);
  const base = await drive(Math.ceil(JOBS / BATCH), (i) => deps.db.execute(sql`insert into bench_baseline (payload) values (${JSON.stringify({ i })}::jsonb)`));
  const baseRate = (Math.ceil(JOBS / BATCH) / base.ms) * 1000;

  let completed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  deps.queue.register('bench.noop', async () => {
    if (++completed === JOBS) resolveDone();
  });
  await deps.queue.start();
  const started = performance.now();
  const enqueued = await drive(Math.ceil(JOBS / BATCH), (i) =>
    enqueueJobs(deps.db, Array.from({ length: Math.min(BATCH, JOBS - i * BATCH) }, (_, k) => ({ type: 'bench.noop', payload: { n: i * BATCH + k } }))),
  );
  await done;
  // The handler ran for every job; wait until the last completions are committed too.
  for (;;) {
    const [r] = await queryRows<{ n: string | number }>(deps.db, sql`select count(*) as n from jobs where status = 'completed'`);
    if (Number(r?.n) >= JOBS) break;
    await new Promise((res) => setTimeout(res, 5));
  }
  const totalMs = performance.now() - started;
  const rate = (JOBS / totalMs) * 1000;
  const [events] = await queryRows<{ n: string | number }>(deps.db, sql`select count(*) as n from job_events`);
  const result = {
    bench: 'queue',
    jobs: JOBS,
    batch: BATCH,
    producers: PRODUCERS,
    concurrency: CONCURRENCY,
    enqueue_ms: Math.round(enqueued.ms),
    total_ms: Math.round(totalMs),
    jobs_per_s: Math.round(rate),
    events_written: Number(events?.n),
    baseline_inserts_per_s: Math.round(baseRate),
    ratio_to_baseline: Number((rate / (baseRate * BATCH)).toFixed(3)),
    target_jobs_per_s: 1000,
    pass: rate >= 1000,
  };
  console.log(JSON.stringify(result));
} finally {
  await deps.shutdown();
  await pg.drop();
}
