/**
 * The database: Postgres through postgres.js when `DATABASE_URL` is set, otherwise the embedded
 * PGlite under `DATA_DIR/pg`. Both are Drizzle `pg-core`, so every table, query and migration is
 * shared; only connection, LISTEN/NOTIFY and shutdown differ, and they are hidden here.
 */
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { sql } from 'drizzle-orm';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import * as schema from './schema';

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
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends a NOTIFY (delivered to every listening process, after commit). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres URL; unset → PGlite. */
  url?: string;
  pool?: number;
  /** PGlite directory, or `memory://` for a throwaway in-memory database (tests). */
  pgliteDir?: string;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** A fixed advisory-lock key so that instances booting together migrate one at a time. */
const MIGRATION_LOCK = 7_270_001;

/** Opens the database and applies pending migrations before returning it. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.pool ?? 10) : openPglite(opts.pgliteDir ?? 'memory://');
}

async function openPostgres(url: string, pool: number): Promise<Database> {
  await migratePostgresLocked(url);
  const client = postgres(url, {
    max: pool,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: 'pictor' },
  });
  const db = drizzlePostgres({ client, schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    listen: async (channel, onMessage) => {
      const sub = await client.listen(channel, onMessage);
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
  const conn = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres({ client: conn }), { migrationsFolder: MIGRATIONS_DIR });
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
  } finally {
    await conn.end({ timeout: 5 });
  }
}

async function openPglite(dir: string): Promise<Database> {
  if (!dir.startsWith('memory://')) mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzlePglite({ client, schema }) as unknown as Db;
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
