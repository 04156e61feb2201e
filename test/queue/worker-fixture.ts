/**
 * A queue worker process for the multi-process tests: the real deps and queue, plus test job
 * types. `test.count` records each run in `queue_test_runs`; `test.slow` sleeps `payload.ms` on
 * its first attempt (long enough to be killed) and briefly after that.
 */
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/config';
import { buildDeps } from '../../src/compose';
import { createLogger } from '../../src/logger';

const config = loadConfig();
const log = createLogger(config.logLevel, { role: 'test-worker' });
const deps = await buildDeps(config, log);
deps.queue.register('test.count', async ({ job }) => {
  await deps.db.execute(sql`insert into queue_test_runs (job_id, pid) values (${job.id}::uuid, ${process.pid})`);
});
deps.queue.register('test.slow', async ({ job, signal }) => {
  const ms = job.attempts === 1 ? Number(job.payload.ms ?? 10_000) : 50;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()));
  });
  if (signal.aborted) throw new Error(`aborted: ${String(signal.reason)}`);
});
process.on('SIGTERM', () => void deps.shutdown().then(() => process.exit(0)));
await deps.queue.start();
log.info({ worker_id: deps.queue.workerId }, 'worker started');
