/**
 * `npm run worker`: a process that only runs queue jobs (no HTTP server). It builds the same
 * deps as the server and registers the same job handlers (`registerJobs`), then claims jobs
 * with `QUEUE_CONCURRENCY` slots (at least 1). SIGTERM/SIGINT release claimed jobs and exit.
 */
import { loadConfigOrExit } from './config';
import { buildDeps } from './compose';
import { registerJobs } from './jobs';
import { createLogger } from './logger';

let config = loadConfigOrExit();
if (!config.databaseUrl) {
  // PGlite belongs to one process: the server runs jobs itself there.
  console.error('npm run worker needs DATABASE_URL; with the embedded database the server runs the jobs (QUEUE_CONCURRENCY).');
  process.exit(1);
}
if (config.queue.concurrency === 0) config = { ...config, queue: { ...config.queue, concurrency: 1 } };
const log = createLogger(config.logLevel, { role: 'worker' });
const deps = await buildDeps(config, log);
registerJobs(deps);
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping: releasing claimed jobs');
  await deps.shutdown();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
await deps.queue.start();
log.info({ worker_id: deps.queue.workerId, concurrency: config.queue.concurrency, types: deps.queue.types(), database: deps.database.kind }, 'worker started');
