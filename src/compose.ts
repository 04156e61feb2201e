/**
 * The composition root: every long-lived object the features share is built here, in one function, and
 * handed to the routes, jobs and the server as `AppDeps` (deps.ts). Tests build the same object
 * with other parts (in-memory PGlite, a test Redis); nothing else constructs clients or caches.
 */
import { join } from 'node:path';
import type { Config } from './config';
import type { AppDeps, BuildOptions, Clock, CoreDeps } from './deps';
import { openDatabase } from './db/client';
import { pgliteTemplateDir } from './db/pglite-template';
import { createPostgresBus, createRedisBus } from './lib/bus';
import { createRedis } from './lib/redis-client';
import { ensureWritableDir } from './lib/startup';
import type { Logger } from './logger';
import { createStorage } from './storage';
import { loadSecrets } from './modules/auth/secrets';
import { createLimiter } from './modules/limits/service';
import { parseTrustProxy } from './modules/limits/client-ip';
import { createQueue } from './modules/queue/runner';
import { createMetrics, instrumentLimiter } from './modules/metrics/registry';
import { createUsageRecorder } from './modules/usage/recorder';
import { createRequestHooks, onRequestDone } from './http';
import { createTraffic } from './modules/admin/traffic';
import { createCredentialResolver } from './modules/auth/credentials';
import { createMailer } from './modules/auth/mail';
import { createRequestLogBuffer } from './modules/logs/service';
import { createRemoteSources } from './modules/remote/source';
import { createDelivery } from './modules/transform/service';
import { createTusStore } from './modules/tus/store';
import { hashPassword } from './platform/password';
import { randomString } from './lib/random';

export const VERSION = '0.1.0';

/**
 * Builds everything one server or worker process needs, in order: the core (`buildCore`), then
 * each feature's long-lived objects (`buildFeatures`).
 */
export async function buildDeps(config: Config, log: Logger, opts: BuildOptions = {}): Promise<AppDeps> {
  return await buildFeatures(await buildCore(config, log, opts));
}

/**
 * The clients the config asks for (database, with its migrations; Redis; storage; secrets) and
 * the process-wide services on them (limiter, queue, metrics, usage). The primary of
 * `WORKERS=N` builds only this (to migrate once); its server processes build everything.
 */
export async function buildCore(config: Config, log: Logger, opts: BuildOptions = {}): Promise<CoreDeps> {
  // Checked first: the embedded database, the secrets file and local files all live there.
  await ensureWritableDir(config.dataDir, 'DATA_DIR');
  // Renders and renditions are written there: one it cannot write started "ready" and logged a stack per render.
  await ensureWritableDir(config.cacheDir, 'CACHE_DIR');
  const database = await openDatabase({
    url: config.databaseUrl,
    pool: config.databasePool,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    pgliteDir: opts.pgliteDir ?? join(config.dataDir, 'pg'),
    pgliteSharedBuffers: config.pgliteSharedBuffers,
    pgliteTemplate: pgliteTemplateDir(),
  });
  const redis = config.redisUrl ? await createRedis(config.redisUrl, log) : null;
  const bus = redis ? createRedisBus(redis, log) : createPostgresBus(database);
  const secrets = await loadSecrets(config, log);
  const closers: (() => Promise<void> | void)[] = [];
  const storage = await createStorage(config);
  const clock: Clock = opts.clock ?? { now: () => Date.now() };
  const metrics = createMetrics({ worker: opts.worker });
  const limiter = instrumentLimiter(createLimiter(config, redis, clock, log), metrics);
  const queue = createQueue(database, log, config.queue);

  const core: CoreDeps = {
    config,
    log,
    database,
    db: database.db,
    redis,
    bus,
    storage,
    secrets,
    limiter,
    queue,
    metrics,
    usage: createUsageRecorder({ db: database.db, log, now: () => clock.now(), onFlushError: () => metrics.usageFlushFailures.inc() }),
    clock,
    trustProxy: parseTrustProxy(config.trustProxy),
    version: VERSION,
    startedAt: Date.now(),
    probes: {
      database: () => database.ping(),
      redis: redis ? async () => void (await redis.ping()) : null,
      storage: () => storage.health(),
    },
    onShutdown: (fn) => void closers.push(fn),
    shutdown: async () => {
      for (const fn of closers.reverse()) await shutdownStep(fn, log);
      for (const fn of [() => bus.close(), () => limiter.close(), () => storage.close(), () => redis?.disconnect()]) await shutdownStep(fn, log);
      await database.close();
    },
  };
  // Registered first so it runs last among the closers: features stop producing before the worker releases its jobs.
  // Usage is written last of all (after the queue stopped), while the database is still open.
  core.onShutdown(() => core.usage.close());
  core.onShutdown(() => queue.close());
  return core;
}

/**
 * Longest one shutdown step may take. A step that never ends (an UNSUBSCRIBE queued on a Redis
 * connection that is down) is left behind, so SIGTERM still stops the process; the queue bounds
 * its own wait for running jobs below this.
 */
const SHUTDOWN_STEP_MS = 15_000;

export async function shutdownStep(fn: () => Promise<void> | void, log: Pick<Logger, 'warn' | 'error'>, boundMs = SHUTDOWN_STEP_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const finished = await Promise.race([
      Promise.resolve(fn()).then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), boundMs))),
    ]);
    if (!finished) log.warn({ timeout_ms: boundMs }, 'a shutdown step did not finish in time; going on');
  } catch (err) {
    log.error({ err }, 'shutdown step failed');
  } finally {
    clearTimeout(timer);
  }
}

/** Each feature's long-lived objects (caches, pools, buffers, resolvers), built on the core. */
async function buildFeatures(core: CoreDeps): Promise<AppDeps> {
  const tus = await createTusStore(core.config);
  core.onShutdown(() => tus.close());
  const requests = createRequestHooks();
  const delivery = createDelivery(core);
  const traffic = createTraffic(() => core.clock.now(), () => {
    const { memory, disk } = delivery.cache.stats();
    return { lookups: memory.hits + memory.misses, hits: memory.hits + disk.hits };
  });
  onRequestDone({ requests }, ({ status }) => traffic.record(status));
  return {
    ...core,
    requests,
    delivery,
    tus,
    traffic,
    credentials: createCredentialResolver(core),
    mailer: createMailer(core),
    // Hashed now, so that even the first login with an unknown email costs one argon2id like the others.
    decoyPasswordHash: hashPassword(randomString(24)),
    requestLogs: createRequestLogBuffer(core),
    remoteSources: createRemoteSources({ config: core.config, now: () => core.clock.now() }),
  };
}
