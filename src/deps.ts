/**
 * The composition root's inputs: everything a module needs from the outside world, built once
 * per process from the config. Tests build the same object with other parts (in-memory PGlite,
 * a test Redis) and pass it to `createApp`; nothing else in the code base constructs clients.
 */
import Redis from 'ioredis';
import { join } from 'node:path';
import type { Config } from './config';
import { openDatabase, type Database, type Db } from './db/client';
import { createPostgresBus, createRedisBus, type Bus } from './lib/bus';
import { ensureWritableDir } from './lib/startup';
import type { Logger } from './logger';
import { createStorage, type StorageDriver } from './storage';
import { loadSecrets, type Secrets } from './modules/auth/secrets';
import { createLimiter } from './modules/limits/service';
import type { RateLimiter } from './modules/limits/types';
import { createQueue, type Queue } from './modules/queue/runner';
import { createMetrics, instrumentLimiter, type Metrics } from './modules/metrics/registry';
import { createUsageRecorder, type UsageRecorder } from './modules/usage/recorder';

export interface Clock {
  /** Milliseconds since the epoch; tests substitute a controllable clock. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A dependency probe for `/health/ready`: resolves when healthy, throws when not. */
export type Probe = () => Promise<void>;

export interface AppDeps {
  config: Config;
  log: Logger;
  database: Database;
  /** Shortcut for `database.db`. */
  db: Db;
  /** Null in embedded mode (no `REDIS_URL`). */
  redis: Redis | null;
  bus: Bus;
  /** Where file bytes live (`STORAGE_DRIVER`): local disk or S3. */
  storage: StorageDriver;
  /** JWT and signed-URL secrets: from the env, else generated once into `DATA_DIR/secrets.json`. */
  secrets: Secrets;
  /** Rate limiter (API.md §7): Redis with in-process fallback when `REDIS_URL` is set, else in process. */
  limiter: RateLimiter;
  /** The job queue (API.md §8): `register(type, handler)`, `enqueue`, workers (`start`). Enqueue inside a transaction with `enqueueJob(tx, …)`. */
  queue: Queue;
  /** Prometheus registry and metric families (API.md §10); modules increment theirs, `/metrics` renders it. */
  metrics: Metrics;
  /** Delivery usage counters (API.md §3): `deps.usage.record(userId, {originReads, imageOps, bytesServed})`, batched to the DB. */
  usage: UsageRecorder;
  clock: Clock;
  version: string;
  startedAt: number;
  /** Readiness probes by name; features replace or add theirs (e.g. the storage driver). */
  probes: { database: Probe; redis: Probe | null; storage: Probe };
  /** Run in reverse order on shutdown, after the server stopped taking requests. */
  onShutdown(fn: () => Promise<void> | void): void;
  shutdown(): Promise<void>;
}

export const VERSION = '0.1.0';

export interface BuildOptions {
  /** Overrides the PGlite location (tests use `memory://`). */
  pgliteDir?: string;
  clock?: Clock;
  /** The server process's index under `WORKERS=N` (labels its metrics). */
  worker?: number;
}

/** Opens every client the config asks for. */
export async function buildDeps(config: Config, log: Logger, opts: BuildOptions = {}): Promise<AppDeps> {
  // Checked first: the embedded database, the secrets file and local files all live there.
  await ensureWritableDir(config.dataDir, 'DATA_DIR');
  const database = await openDatabase({
    url: config.databaseUrl,
    pool: config.databasePool,
    pgliteDir: opts.pgliteDir ?? join(config.dataDir, 'pg'),
  });
  const redis = config.redisUrl ? createRedis(config.redisUrl, log) : null;
  const bus = redis ? createRedisBus(redis, log) : createPostgresBus(database);
  const secrets = await loadSecrets(config, log);
  const closers: (() => Promise<void> | void)[] = [];
  const storage = await createStorage(config);
  const clock = opts.clock ?? systemClock;
  const metrics = createMetrics({ worker: opts.worker });
  const limiter = instrumentLimiter(createLimiter(config, redis, clock, log), metrics);
  const queue = createQueue(database, log, config.queue);

  const deps: AppDeps = {
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
    version: VERSION,
    startedAt: Date.now(),
    probes: {
      database: () => database.ping(),
      redis: redis ? async () => void (await redis.ping()) : null,
      storage: () => storage.health(),
    },
    onShutdown: (fn) => void closers.push(fn),
    shutdown: async () => {
      for (const fn of closers.reverse()) {
        try {
          await fn();
        } catch (err) {
          log.error({ err }, 'shutdown step failed');
        }
      }
      await bus.close();
      await limiter.close();
      await storage.close();
      redis?.disconnect();
      await database.close();
    },
  };
  // Registered first so it runs last among the closers: features stop producing before the worker releases its jobs.
  // Usage is written last of all (after the queue stopped), while the database is still open.
  deps.onShutdown(() => deps.usage.close());
  deps.onShutdown(() => queue.close());
  return deps;
}

/**
 * ioredis tuned for a dependency that may vanish: commands fail fast instead of queueing
 * while disconnected, so callers (the limiter) can fall back within one request, and the
 * client keeps reconnecting in the background.
 */
function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  let lastLog = 0;
  redis.on('error', (err) => {
    // Reconnect attempts error every second while Redis is down; log at most every 10 s.
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      log.warn({ err: err.message }, 'redis connection problem');
    }
  });
  return redis;
}
