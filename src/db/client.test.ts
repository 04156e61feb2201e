import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { createTestDatabase, DB_BACKENDS, type TestDatabase } from '../../test/helpers/services';
import { apiKeys } from '../modules/keys/table';
import { createApiKey } from '../modules/keys/service';
import { users } from '../modules/users/table';
import { makeTestApp } from '../../test/helpers/app';
import { openDatabase, type Database } from './client';

describe.each(DB_BACKENDS)('database on %s', (backend) => {
  let database: Database;
  let pg: TestDatabase | null = null;
  beforeAll(async () => {
    pg = backend === 'postgres' ? await createTestDatabase() : null;
    database = await openDatabase(pg ? { url: pg.url, pool: 4 } : { pgliteDir: 'memory://' });
  });
  afterAll(async () => {
    await database.close();
    await pg?.drop();
  });

  test('migrations created the tables and recorded themselves', async () => {
    const tables = await database.db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public'`,
    );
    const names = (Array.isArray(tables) ? tables : (tables as { rows: { table_name: string }[] }).rows).map((r) => r.table_name);
    expect(names).toEqual(expect.arrayContaining(['users', 'api_keys']));
    const applied = await database.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const rows = Array.isArray(applied) ? applied : (applied as { rows: unknown[] }).rows;
    expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
  });

  test('a repository round trip: insert, join, update, and a rolled-back transaction leaves nothing', async () => {
    const [user] = await database.db.insert(users).values({ email: `rt-${backend}@example.com`, passwordHash: 'x' }).returning();
    expect(user!.role).toBe('user');
    expect(user!.createdAt).toBeInstanceOf(Date);
    const { row, key } = await createApiKey(database.db, user!.id, { name: 'k', scopes: ['files:read'] });
    expect(key.startsWith(row.keyPrefix)).toBe(true);
    const joined = await database.db
      .select({ email: users.email, scopes: apiKeys.scopes })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(eq(apiKeys.id, row.id));
    expect(joined).toEqual([{ email: `rt-${backend}@example.com`, scopes: ['files:read'] }]);

    await database.db.update(users).set({ filesCount: sql`${users.filesCount} + 2` }).where(eq(users.id, user!.id));
    await expect(
      database.db.transaction(async (tx) => {
        await tx.insert(users).values({ email: `ghost-${backend}@example.com`, passwordHash: 'x' });
        await tx.update(users).set({ filesCount: 99 }).where(eq(users.id, user!.id));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const after = await database.db.select().from(users).where(eq(users.email, `ghost-${backend}@example.com`));
    expect(after).toHaveLength(0);
    const [reloaded] = await database.db.select().from(users).where(eq(users.id, user!.id));
    expect(reloaded!.filesCount).toBe(2);
  });

  test('the unique email index refuses duplicates', async () => {
    await database.db.insert(users).values({ email: `dup-${backend}@example.com`, passwordHash: 'x' });
    // Drizzle queries are thenables, not promises: wrap so `rejects` sees a real promise.
    const insertAgain = async () => database.db.insert(users).values({ email: `dup-${backend}@example.com`, passwordHash: 'y' });
    await expect(insertAgain()).rejects.toThrow();
  });

  test('LISTEN/NOTIFY delivers a message', async () => {
    let resolveGot: (message: string) => void = () => {};
    const got = new Promise<string>((resolve) => (resolveGot = resolve));
    // listen() resolves once LISTEN is in effect, so the NOTIFY below cannot be missed.
    const unlisten = await database.listen('pictor_test_channel', (m) => resolveGot(m));
    await database.notify('pictor_test_channel', 'hello');
    expect(await got).toBe('hello');
    await unlisten();
  });
});

describe('PGLITE_SHARED_BUFFERS', () => {
  const sharedBuffers = async (env: Record<string, string>) => {
    const h = await makeTestApp({ env });
    try {
      const res = await h.deps.db.execute(sql`show shared_buffers`);
      const rows = Array.isArray(res) ? res : (res as { rows: { shared_buffers: string }[] }).rows;
      return (rows[0] as { shared_buffers: string }).shared_buffers;
    } finally {
      await h.close();
    }
  };

  test('the embedded database takes the configured buffer cache (16 MiB by default, not PGlite\'s 128)', async () => {
    expect(await sharedBuffers({})).toBe('16MB');
    expect(await sharedBuffers({ PGLITE_SHARED_BUFFERS: '3MiB' })).toBe('3MB');
  });
});
