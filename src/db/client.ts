/**
 * The database: Postgres through postgres.js when `DATABASE_URL` is set, otherwise the embedded
 * PGlite under `DATA_DIR/pg`. Both are Drizzle `pg-core`, so every table, query and migration is
 * shared; only connection, LISTEN/NOTIFY and shutdown differ, and they are hidden here.
 */
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { sql } from 'drizzle-orm';
import { mkdirSync } from 'node:fs';
import { forDrizzle } from './pglite-parsers';
import { copyPgliteTemplate } from './pglite-template';
import { fileURLToPath } from 'node:url';
import { errorCode, errorSummary, StartupError } from '../lib/startup';
import * as schema from './schema';

/**
 * The Postgres driver and its Drizzle adapter, loaded only when `DATABASE_URL` is set: on the
 * embedded defaults they would only add to start-up (docs/TUNING.md, "Start-up").
 */
const postgresModules = async () => {
  const [{ default: postgres }, { drizzle }, { migrate }] = await Promise.all([
    import('postgres'), import('drizzle-orm/postgres-js'), import('drizzle-orm/postgres-js/migrator'),
  ]);
  return { postgres, drizzlePostgres: drizzle, migratePostgres: migrate };
};

export type Schema = typeof schema;
/** The Drizzle handle both drivers share; transactions have the same type via `db.transaction`. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction or the database itself: services accept either so callers can compose them. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** A cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /**
   * Subscribes to a NOTIFY channel; resolves to an unsubscribe function. `onRelisten` runs when
   * the listening connection was lost and is back (notifications sent meanwhile are lost).
   */
  listen(channel: string, onMessage: (payload: string) => void, onRelisten?: () => void): Promise<() => Promise<void>>;
  /** Sends a NOTIFY (delivered to every listening process, after commit). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres URL; unset → PGlite. */
  url?: string;
  pool?: number;
  /** Postgres `statement_timeout` (and 4 × it idle in a transaction); 0 or unset: none. */
  statementTimeoutMs?: number;
  /** PGlite directory, or `memory://` for a throwaway in-memory database (tests). */
  pgliteDir?: string;
  /** PGlite's `shared_buffers` in bytes (PGlite's own default when unset: 128 MiB). */
  pgliteSharedBuffers?: number;
  /** A PGlite directory a new `pgliteDir` starts as a copy of, instead of running initdb (pglite-template.ts). */
  pgliteTemplate?: string;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** A fixed advisory-lock key so that instances booting together migrate one at a time. */
const MIGRATION_LOCK = 7_270_001;

/** Opens the database and applies pending migrations before returning it. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.pool ?? 10, opts.statementTimeoutMs ?? 0) : openPglite(opts.pgliteDir ?? 'memory://', opts.pgliteSharedBuffers, opts.pgliteTemplate);
}

/**
 * How long start-up waits for Postgres to accept a connection: long enough for a database
 * container that starts beside the app, short enough that a wrong `DATABASE_URL` is reported
 * promptly instead of hanging.
 */
export const DATABASE_WAIT_MS = 10_000;
const RETRY_MS = 500;

/** Errors that mean "not reachable (yet)": worth retrying until the wait is over. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'CONNECTION_CLOSED', '57P03']);

/** `host:port/database` of a Postgres URL: names the target without its password. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Resolves once a `select 1` succeeds, retrying while the database is unreachable, for at
 * most `waitMs` in all (each attempt is raced against what is left, as a server that accepts
 * TCP but never answers would otherwise hold it). Throws a `StartupError` naming `DATABASE_URL`.
 */
export async function waitForPostgres(url: string, waitMs = DATABASE_WAIT_MS): Promise<void> {
  const { postgres } = await postgresModules();
  const deadline = Date.now() + waitMs;
  let last: unknown = null;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new StartupError(
        `Database at ${describeUrl(url)} unreachable within ${Math.round(waitMs / 1000)} s (${errorSummary(last)}): start it, or set DATABASE_URL to a reachable Postgres (unset: the embedded PGlite in DATA_DIR)`,
        'DATABASE_URL',
        errorCode(last),
      );
    }
    const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: Math.max(1, Math.ceil(left / 1000)) });
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Handled here too: when the timer wins, the query still rejects later (as the connection ends).
    const query = conn`select 1`.then(() => undefined);
    query.catch(() => {});
    try {
      await Promise.race([
        query,
        new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'CONNECT_TIMEOUT' })), left))),
      ]);
      return;
    } catch (err) {
      const code = errorCode(err);
      if (code === undefined || !TRANSIENT.has(code)) {
        throw new StartupError(
          `Database at ${describeUrl(url)} refused the connection (${errorSummary(err)}): fix DATABASE_URL (user, password, database name)`,
          'DATABASE_URL',
          code,
        );
      }
      last = err;
    } finally {
      clearTimeout(timer);
      void conn.end({ timeout: 0 }).catch(() => {});
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(RETRY_MS, deadline - Date.now()))));
  }
}

/** How long past `DATABASE_STATEMENT_TIMEOUT_MS` a silent database is waited for. */
export const ANSWER_MARGIN_MS = 5000;

/** The readiness probe's wait on the pool, then on one fresh connection (within /health/ready's 1.5 s). */
const PING_MS = 900;
const CONNECT_PROBE_MS = 500;

/** `promise`, or a CONNECT_TIMEOUT error after `ms`. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  promise.catch(() => {}); // handled: raced below, and may reject after the timer won
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'CONNECT_TIMEOUT' })), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** What a fresh connection to `url` meets, in a few words (`ECONNREFUSED: …`), or that it works. */
async function connectFailure(url: string): Promise<string> {
  const { postgres } = await postgresModules();
  const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 1 });
  try {
    await withinMs(conn`select 1`, CONNECT_PROBE_MS);
    return 'a new connection works; the pool\'s do not answer';
  } catch (err) {
    return errorSummary(err);
  } finally {
    void conn.end({ timeout: 0 }).catch(() => {});
  }
}

async function openPostgres(url: string, pool: number, statementTimeoutMs: number): Promise<Database> {
  await waitForPostgres(url);
  await migratePostgresLocked(url);
  const { postgres, drizzlePostgres } = await postgresModules();
  const client = postgres(url, {
    max: pool,
    idle_timeout: 30,
    connect_timeout: 5,
    // Reconnects at most 2 s apart (postgres.js's own backoff grows to 20 s: a database back
    // after a minute's outage would wait that long to be used), jittered so that the connections
    // of every process do not all knock at the same moment.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 2) * (0.5 + Math.random() / 2),
    onnotice: () => {},
    connection: {
      application_name: 'pictor',
      // A statement stuck on a lock (or a runaway one) ends, and its request answers 503; a
      // transaction abandoned mid-way frees its locks.
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: statementTimeoutMs * 4 } : {}),
    },
    // A database that sends nothing while a statement is outstanding, ANSWER_MARGIN_MS past the
    // time its own statement_timeout would have answered, is paused or cut off by a network that
    // drops packets (TCP then waits ~15 min): the connection is closed and its requests answer 503.
    // An option of postgres.js as patched here (patches/postgres+3.4.9.patch).
    answer_timeout: statementTimeoutMs > 0 ? (statementTimeoutMs + ANSWER_MARGIN_MS) / 1000 : null,
  });
  const db = drizzlePostgres({ client, schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      try {
        await withinMs(client`select 1`, PING_MS);
      } catch (err) {
        // The pool only says it waited (between reconnects): one fresh connection says why.
        throw new Error(`Database at ${describeUrl(url)} cannot be reached (${await connectFailure(url)}): check that it runs and that DATABASE_URL points at it`, { cause: err });
      }
    },
    listen: async (channel, onMessage, onRelisten) => {
      // postgres.js calls `onlisten` for the first LISTEN and again for each one after a reconnect.
      let first = true;
      const sub = await client.listen(channel, onMessage, () => {
        if (first) first = false;
        else onRelisten?.();
      });
      return () => sub.unlisten();
    },
    notify: async (channel, payload) => {
      await client.notify(channel, payload);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Runs migrations on a dedicated connection holding a session advisory lock. */
async function migratePostgresLocked(url: string): Promise<void> {
  const { postgres, drizzlePostgres, migratePostgres } = await postgresModules();
  const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres({ client: conn }), { migrationsFolder: MIGRATIONS_DIR });
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await conn.end({ timeout: 5 });
  }
}

async function openPglite(dir: string, sharedBuffers?: number, template?: string): Promise<Database> {
  if (!dir.startsWith('memory://')) {
    if (template) await copyPgliteTemplate(template, dir);
    mkdirSync(dir, { recursive: true });
  }
  // PGlite touches all of shared_buffers at start, so its size is resident memory from the first
  // second (128 MiB by default); beyond it, pages come from the OS page cache (docs/TUNING.md).
  const startParams = sharedBuffers === undefined ? undefined
    : [...PGlite.defaultStartParams, '-c', `shared_buffers=${Math.floor(sharedBuffers / 1024)}kB`];
  const client = await PGlite.create(dir, startParams ? { startParams } : {});
  // Applies to named statements only, which are the hot ones registered in pglite-named.ts.
  await client.exec('set plan_cache_mode = force_generic_plan');
  const db = drizzlePglite({ client: forDrizzle(client), schema }) as unknown as Db;
  await migratePglite(drizzlePglite({ client }), { migrationsFolder: MIGRATIONS_DIR });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    listen: (channel, onMessage) => client.listen(channel, onMessage),
    notify: async (channel, payload) => {
      await db.execute(sql`select pg_notify(${channel}, ${payload})`);
    },
    close: () => client.close(),
  };
}
