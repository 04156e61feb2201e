/**
 * Process start-up shared by the Bun and Deno entries: config, clients, bootstrap admin, HTTP
 * server, graceful shutdown; and, with WORKERS > 1, a primary that migrates once and then
 * keeps N server processes sharing the port (`reusePort`).
 *
 * A start-up failure (port taken, database unreachable, DATA_DIR not writable, S3 bucket
 * missing: a `StartupError`) is one fatal log line naming the cause and the variable to set,
 * then a non-zero exit. The bootstrap admin is created only once the server listens, so a
 * failed start neither prints credentials nor leaves an admin whose password nobody saw.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createApp, createHandler } from './app';
import { loadConfigOrExit, mistypedSettings, type Config } from './config';
import { buildCore, buildDeps } from './compose';
import { registerJobs } from './jobs';
import type { CoreDeps } from './deps';
import { StartupError } from './lib/startup';
import { createLogger, type Logger } from './logger';
import { bootstrapAdmin } from './modules/admin/bootstrap';
import { loadPresets } from './modules/transform/presets';
import { largestRequestBytes } from './modules/files/upload';
import { assertCanListen, listenFailure } from './platform/listen';
import { serve, type HttpServer } from './platform/server';

const WORKER_ENV = 'PICTOR_WORKER_INDEX';
/** A server process's exit code when it could not start: its primary stops rather than restart it. */
const WORKER_START_FAILED = 78;

export async function start(): Promise<void> {
  const config = loadConfigOrExit();
  const workerIndex = process.env[WORKER_ENV];
  const log = createLogger(config.logLevel, workerIndex ? { worker: Number(workerIndex) } : {});
  // A mistyped setting is read by nothing: said once at start, not left to be found out later.
  if (workerIndex === undefined) {
    for (const { name, meant } of mistypedSettings()) log.warn({ variable: name, did_you_mean: meant }, `${name} is not a Pictor setting and has no effect; did you mean ${meant}?`);
  }
  // What escapes every handler still ends the process, as the runtime would, but says so in the
  // log's own format, which the operator's tools read, before a supervisor restarts it.
  const die = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: the process exits`);
    process.exit(1);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
  const opened: Opened = {};
  try {
    // Read before anything is made on disk or migrated: a setting to fix leaves nothing behind.
    loadPresets(config.presets, { maxDimension: config.maxDimension, maxOutputPixels: config.maxOutputPixels });
    if (config.workers > 1 && workerIndex === undefined) return await runPrimary(config, log, opened);
    await runServer(config, log, opened);
  } catch (err) {
    await exitStartFailed(log, err, opened, workerIndex === undefined ? 1 : WORKER_START_FAILED);
  }
}

/** What start-up has opened so far, to close on the way out of a failed start. */
interface Opened {
  deps?: CoreDeps;
}

async function exitStartFailed(log: Logger, err: unknown, opened: Opened, code: number): Promise<never> {
  if (err instanceof StartupError) log.fatal({ variable: err.variable, code: err.code }, err.message);
  else log.fatal({ err }, 'start-up failed');
  // Closed (briefly) so the embedded database is left tidy; nothing here waits long.
  if (opened.deps) await Promise.race([opened.deps.shutdown().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(code);
}

async function runServer(config: Config, log: Logger, opened: Opened): Promise<void> {
  const worker = process.env[WORKER_ENV]; // set by the primary of WORKERS=N; labels the metrics
  const deps = (opened.deps = await buildDeps(config, log, { worker: worker === undefined ? undefined : Number(worker) }));
  registerJobs(deps);
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

  const handler = createHandler(deps, createApp(deps));
  try {
    server = await serve(handler, {
      port: config.port,
      hostname: config.host,
      reusePort: config.workers > 1,
      maxRequestBodySize: largestRequestBytes(config),
    });
  } catch (err) {
    throw listenFailure(err, config.port, config.host) ?? err;
  }
  if (stopping) return void (await server.stop());
  // PUBLIC_URL unset: links follow the port actually listened on (PORT=0 picks one). Set before
  // any await, so no request sees the unresolved port.
  if (config.publicUrlFromPort) config.publicUrl = `http://localhost:${server.port}`;
  // Only now that the server listens: credentials printed by a start that then failed would be
  // for a server nobody can reach. Every process of WORKERS tries; the unique email lets one win.
  await bootstrapAdmin(deps);
  log.info({ port: server.port, url: config.publicUrl, database: deps.database.kind, redis: Boolean(deps.redis) }, 'listening');
  // Job workers in this process (QUEUE_CONCURRENCY=0 leaves the jobs to `npm run worker`).
  await deps.queue.start();
}

/** Migrates once and checks the port, then supervises the server processes (which bootstrap once listening). */
async function runPrimary(config: Config, log: Logger, opened: Opened): Promise<void> {
  // Opening the database applies migrations (under an advisory lock) before any worker starts;
  // the feature objects (caches, pools) belong to the server processes, not to this one.
  const deps = (opened.deps = await buildCore(config, log));
  // The workers listen, not this process: a taken port is reported here once, not by each of them.
  await assertCanListen(config.port, config.host);
  await deps.shutdown();
  opened.deps = undefined;

  const children = new Map<number, ChildProcess>();
  let stopping = false;
  let exitCode = 0;
  const stop = (signal: NodeJS.Signals, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const child of children.values()) child.kill(signal);
    if (children.size === 0) process.exit(exitCode);
  };
  /** Failed starts in a row of each relaunched worker (its next try waits longer). */
  const failedRelaunches = new Map<number, number>();
  const launch = (index: number, relaunch = false) => {
    if (stopping) return; // a relaunch timer that fired during shutdown
    const child = spawn(process.execPath, process.argv.slice(1), {
      env: { ...process.env, [WORKER_ENV]: String(index) },
      stdio: 'inherit',
    });
    children.set(index, child);
    child.on('exit', (code, signal) => {
      children.delete(index);
      if (stopping) {
        if (children.size === 0) process.exit(exitCode);
        return;
      }
      if (code === WORKER_START_FAILED && !relaunch) {
        // It printed why (one fatal line); restarting would fail the same way every second.
        stop('SIGTERM', 1);
        return;
      }
      if (code === WORKER_START_FAILED) {
        // A worker that ran before cannot start again: its settings were good, so what it needs
        // is away (the database in an outage). Tried again, less often, until it is back: an
        // outage of seconds must not end the service.
        const failed = (failedRelaunches.get(index) ?? 0) + 1;
        failedRelaunches.set(index, failed);
        const waitS = Math.min(30, 2 ** (failed - 1));
        log.error({ worker: index, attempts: failed }, `worker could not start again; retrying in ${waitS} s`);
        setTimeout(() => launch(index, true), waitS * 1000);
        return;
      }
      failedRelaunches.delete(index);
      log.error({ worker: index, code, signal }, 'worker exited; restarting in 1 s');
      setTimeout(() => launch(index, true), 1000);
    });
  };
  for (let i = 0; i < config.workers; i++) launch(i);
  log.info({ workers: config.workers, port: config.port }, 'primary started workers');

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
