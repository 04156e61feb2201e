/**
 * The types of the composition root (`compose.ts`): everything a module needs, built once per
 * process from the config. Types only, so every module can name `AppDeps` without importing
 * what builds it.
 */
import type Redis from 'ioredis';
import type { Config } from './config';
import type { Database, Db } from './db/client';
import type { Bus } from './lib/bus';
import type { Logger } from './logger';
import type { StorageDriver } from './storage';
import type { Secrets } from './modules/auth/secrets';
import type { RateLimiter } from './modules/limits/types';
import type { TrustProxy } from './modules/limits/client-ip';
import type { Queue } from './modules/queue/runner';
import type { Metrics } from './modules/metrics/registry';
import type { UsageRecorder } from './modules/usage/recorder';
import type { RequestHooks } from './http';
import type { Delivery } from './modules/transform/service';
import type { CredentialResolver } from './modules/auth/credentials';
import type { Mailer } from './modules/auth/mail';
import type { Traffic } from './modules/admin/traffic';
import type { LogBuffer } from './modules/logs/buffer';
import type { NewRequestLog } from './modules/logs/table';
import type { RemoteSources } from './modules/remote/source';
import type { TusStore } from './modules/tus/store';

export interface Clock {
  /** Milliseconds since the epoch; tests substitute a controllable clock. */
  now(): number;
}

/** A dependency probe for `/health/ready`: resolves when healthy, throws when not. */
export type Probe = () => Promise<void>;

/** The clients and process-wide services every feature builds on (the first half of `buildDeps`). */
export interface CoreDeps {
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
  /** `TRUST_PROXY`, parsed: which peers' `X-Forwarded-For` names the client (limits/client-ip.ts). */
  trustProxy: TrustProxy;
  version: string;
  startedAt: number;
  /** Readiness probes by name; features replace or add theirs (e.g. the storage driver). */
  probes: { database: Probe; redis: Probe | null; storage: Probe };
  /** Run in reverse order on shutdown, after the server stopped taking requests. */
  onShutdown(fn: () => Promise<void> | void): void;
  shutdown(): Promise<void>;
}

/**
 * Everything the routes, jobs and the server use: the core plus each feature's long-lived
 * objects (caches, pools, buffers), all built in `buildDeps` (compose.ts), in one place.
 */
export interface AppDeps extends CoreDeps {
  /** Request-level hooks of the HTTP app (http.ts): finished-request observers, body handling per route, deep-link pages. */
  requests: RequestHooks;
  /** Derivative delivery (transform/service.ts): presets, lookup and derivative caches, the render pool, the resolver. */
  delivery: Delivery;
  /** Resolves API keys, JWTs and session cookies to principals, with their caches (auth/credentials.ts). */
  credentials: CredentialResolver;
  /** Outgoing mail: SMTP, or the log when `SMTP_URL` is unset (auth/mail.ts). */
  mailer: Mailer;
  /** An argon2id hash of a random password, verified against for unknown emails so both cases cost the same (auth/service.ts). */
  decoyPasswordHash: Promise<string>;
  /** Requests and cache hits per minute over the last hour, for the admin dashboard (admin/traffic.ts). */
  traffic: Traffic;
  /** Request-log entries waiting to be written in batches (logs/buffer.ts). */
  requestLogs: LogBuffer<NewRequestLog>;
  /** Where unfinished tus uploads keep their bytes: a partial file, or S3 multipart parts (tus/store.ts). */
  tus: TusStore;
  /** The remote-source fetch cache of `/r` URLs (remote/source.ts). */
  remoteSources: RemoteSources;
}

export interface BuildOptions {
  /** Overrides the PGlite location (tests use `memory://`). */
  pgliteDir?: string;
  clock?: Clock;
  /** The server process's index under `WORKERS=N` (labels its metrics). */
  worker?: number;
}
