/**
 * The real services the integration suites use: the machine's Postgres and Redis (CI starts
 * them when they are down). A suite that cannot reach one fails with a clear message; it never
 * skips. Each test database is a fresh `CREATE DATABASE` so suites cannot see each other's rows.
 */
import Redis from 'ioredis';
import postgres from 'postgres';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty Postgres database for one suite; `drop()` removes it (connections are terminated). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const name = `pictor_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (err) {
    await admin.end();
    throw new Error(`Postgres is required for this suite and is unreachable at ${TEST_DATABASE_URL}: ${(err as Error).message}`);
  }
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const conn = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await conn.unsafe(`drop database if exists ${name} with (force)`);
      await conn.end();
    },
  };
}

/** A Redis key prefix unique to one suite, plus a check that Redis answers. */
export async function requireRedis(): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is required for this suite and is unreachable at ${TEST_REDIS_URL}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

/** The database backends every DB-touching suite runs against (`describe.each(DB_BACKENDS)`). */
export const DB_BACKENDS = ['pglite', 'postgres'] as const;
export type DbBackend = (typeof DB_BACKENDS)[number];
