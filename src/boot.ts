/**
 * Process start-up shared by the Bun and Deno entries: config, clients, bootstrap admin, HTTP
 * server, graceful shutdown; and, with WORKERS > 1, a primary that migrates once and then
 * keeps N server processes sharing the port (`reusePort`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createApp } from './app';
import { loadConfigOrExit, type Config } from './config';
import { buildDeps } from './deps';
import { createLogger, type Logger } from './logger';
import { bootstrapAdmin } from './modules/admin/bootstrap';
import { serve, type HttpServer } from './platform/server';

const WORKER_ENV = 'PICTOR_WORKER_INDEX';

export async function start(): Promise<void> {
  const config = loadConfigOrExit();
  const workerIndex = process.env[WORKER_ENV];
  const log = createLogger(config.logLevel, workerIndex ? { worker: Number(workerIndex) } : {});
  if (config.workers > 1 && workerIndex === undefined) return runPrimary(config, log);
  await runServer(config, log, workerIndex === undefined);
}

async function runServer(config: Config, log: Logger, isPrimary: boolean): Promise<void> {
  const deps = await buildDeps(config, log);
  let server: HttpServer | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new connections, waiting for in-flight requests');
    if (server) {
      const drained = await Promise.race([
        server.stop().then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref?.()),
      ]);
      if (!drained) log.warn({ timeout_ms: config.shutdownTimeoutMs }, 'in-flight requests did not finish in time');
    }
    await deps.shutdown();
    log.info('stopped');
    process.exit(0);
  };
  // Installed before listening so a signal during start-up also shuts down cleanly.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (isPrimary) await bootstrapAdmin(deps);
  const app = createApp(deps);
  server = await serve(app, {
    port: config.port,
    hostname: config.host,
    reusePort: config.workers > 1,
    // The runtime's own cap must admit the largest upload; routes enforce the real, per-account limits.
    maxRequestBodySize: Math.max(config.maxUploadBytes, config.promotedMaxUploadBytes) + 1024 * 1024,
  });
  if (stopping) return void (await server.stop());
  // PUBLIC_URL unset: links follow the port actually listened on (PORT=0 picks one).
  if (config.publicUrlFromPort) config.publicUrl = `http://localhost:${server.port}`;
  log.info({ port: server.port, url: config.publicUrl, database: deps.database.kind, redis: Boolean(deps.redis) }, 'listening');
  // Job workers in this process (QUEUE_CONCURRENCY=0 leaves the jobs to `npm run worker`).
  await deps.queue.start();
}

/** Migrates and bootstraps once, then supervises the server processes. */
async function runPrimary(config: Config, log: Logger): Promise<void> {
  // Opening the deps applies migrations (under an advisory lock) before any worker starts.
  const deps = await buildDeps(config, log);
  await bootstrapAdmin(deps);
  await deps.shutdown();

  const children = new Map<number, ChildProcess>();
  let stopping = false;
  const launch = (index: number) => {
    const child = spawn(process.execPath, process.argv.slice(1), {
      env: { ...process.env, [WORKER_ENV]: String(index) },
      stdio: 'inherit',
    });
    children.set(index, child);
    child.on('exit', (code, signal) => {
      children.delete(index);
      if (stopping) {
        if (children.size === 0) process.exit(0);
        return;
      }
      log.error({ worker: index, code, signal }, 'worker exited; restarting in 1 s');
      setTimeout(() => launch(index), 1000);
    });
  };
  for (let i = 0; i < config.workers; i++) launch(i);
  log.info({ workers: config.workers, port: config.port }, 'primary started workers');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const child of children.values()) child.kill(signal);
    if (children.size === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
