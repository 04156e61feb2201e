/**
 * Registered statements on PGlite (pglite-named.ts) answer as `query` does, on one reused
 * generic plan, wait for an open transaction instead of running inside it, recover from an
 * error, and are parsed once per PGlite instance however many handles use it; and the file
 * list's statements, planned once, still read the list's index.
 */
import { PGlite, types } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { openDatabase, type Database } from './client';
import { registerNamedStatement } from './pglite-named';
import { forDrizzle } from './pglite-parsers';
import { users } from '../modules/users/table';
import { preparedList } from '../modules/files/list-query';

const things = pgTable('named_things', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  owner: text('owner'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
});

let database: Database;
const select = () => database.db.select().from(things)
  .where(sql`${things.at} < ${sql.placeholder('before')}::timestamptz and ${things.id} >= ${sql.placeholder('min')}`)
  .orderBy(things.id);
const named = () => select().prepare('named_things_test');

/** The plan counters of a named statement. */
async function plans(name: string): Promise<{ generic: number; custom: number }> {
  const r = await database.db.execute(sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements where name = ${name}`);
  const [row] = (r as unknown as { rows: { generic: number; custom: number }[] }).rows;
  return row ?? { generic: 0, custom: 0 };
}

beforeAll(async () => {
  database = await openDatabase({ pgliteDir: 'memory://' });
  await database.db.execute(sql`create table named_things (id int primary key, name text not null, owner text, at timestamptz not null)`);
  await database.db.execute(sql`insert into named_things values (1, 'one', null, '2026-12-05 01:02:03.456+00'), (2, 'two', 'x', '2020-02-29 23:59:59+00'), (3, 'three', 'y', '2030-01-01 00:00:00+00')`);
  registerNamedStatement('named_things_test', named().getQuery().sql);
});
afterAll(() => database.close());

test('a registered statement answers as the unregistered one, on one generic plan', async () => {
  const statement = named();
  for (const params of [{ before: '2027-01-01T00:00:00.000Z', min: 1 }, { before: new Date('2026-12-06T00:00:00Z'), min: 2 }, { before: '1999-01-01T00:00:00Z', min: 0 }]) {
    const want = await select().limit(100).prepare('named_things_plain').execute(params); // another text: unregistered
    const got = await statement.execute(params);
    expect(got).toEqual(want);
  }
  expect((await statement.execute({ before: '2027-01-01T00:00:00.000Z', min: 1 }))[0]).toEqual({ id: 1, name: 'one', owner: null, at: new Date('2026-12-05T01:02:03.456Z') });
  expect(await plans('named_things_test')).toEqual({ generic: 4, custom: 0 });
});

test('it waits for an open transaction instead of running inside it', async () => {
  let inserted!: () => void;
  const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const tx = database.db.transaction(async (t) => {
    await t.insert(things).values({ id: 9, name: 'uncommitted', at: new Date('2000-01-01T00:00:00Z') });
    inserted();
    await held;
    t.rollback();
  }).catch(() => 'rolled back');
  await insertedYet;
  const read = named().execute({ before: '2027-01-01T00:00:00Z', min: 0 });
  let settled = false;
  void read.then(() => (settled = true));
  await Bun.sleep(20);
  expect(settled).toBe(false); // still waiting for the transaction
  release();
  expect(await tx).toBe('rolled back');
  expect((await read).map((r) => r.id)).toEqual([1, 2]); // never saw row 9
});

test("a query's own serializers apply, and a parse option sends it through `query`", async () => {
  const client = await PGlite.create('memory://');
  try {
    await client.exec(`set plan_cache_mode = force_generic_plan;
      create table named_things (id int primary key, name text not null, owner text, at timestamptz not null);
      insert into named_things values (1, 'one', null, '2001-01-01 00:00:00+00'), (2, 'two', null, '2001-01-01 00:00:00+00')`);
    const wrapped = forDrizzle(client);
    const text = named().getQuery().sql; // $1 before (timestamptz), $2 min (int4)
    const minus1 = { [types.INT4]: (v: unknown) => String(Number(v) - 1) };
    const ids = async (options: Parameters<PGlite['query']>[2]) =>
      (await wrapped.query<{ id: number }>(text, ['2027-01-01T00:00:00Z', 2], options)).rows.map((r) => r.id);
    expect(await ids({ serializers: minus1 })).toEqual([1, 2]); // min 2 sent as 1
    expect(await ids({})).toEqual([2]);
    expect(await ids({ paramTypes: [types.TIMESTAMPTZ, types.INT4] })).toEqual([2]);
    const [row] = (await client.query<{ n: number }>(`select generic_plans::int as n from pg_prepared_statements where name = 'named_things_test'`)).rows;
    expect(row?.n).toBe(2); // the named statement answered the first two, `query` the third
  } finally {
    await client.close();
  }
});

test('an error rejects and leaves the statement usable', async () => {
  await expect(named().execute({ before: 'not a time', min: 0 })).rejects.toThrow();
  expect((await named().execute({ before: '2027-01-01T00:00:00Z', min: 2 })).map((r) => r.id)).toEqual([2]);
});

test('a registered statement that does not parse rejects on every use, and nothing else breaks', async () => {
  const bad = 'select nope from named_nothing';
  registerNamedStatement('named_bad_test', bad);
  for (let i = 0; i < 2; i++) {
    const err = await Promise.resolve(database.db.execute(sql.raw(bad))).then(() => null, (e: unknown) => e as { cause?: Error });
    expect(err?.cause?.message).toBe('relation "named_nothing" does not exist'); // not "already exists": nothing half-made
  }
  expect((await named().execute({ before: '2027-01-01T00:00:00Z', min: 3 })).map((r) => r.id)).toEqual([]);
});

test("the file list's statements run on a generic plan that reads the list's index", async () => {
  const [user] = await database.db.insert(users).values({ email: 'named@example.com', passwordHash: 'x' }).returning({ id: users.id });
  const p = preparedList(database.db);
  const now = new Date().toISOString();
  const values: Record<string, string | number> = { user: user!.id, now, limit: 50, at: now, id: 'zzzz', base: 'http://x' };
  for (let i = 0; i < 3; i++) {
    const [page] = await p.after.execute(values);
    expect(page).toMatchObject({ count: 0, files: '[]', more: false });
  }
  expect(await plans('files_list_after')).toEqual({ generic: 3, custom: 0 });
  // The plan Postgres keeps for the named statement: EXPLAIN EXECUTE shows it.
  const args = p.after.getQuery().params.map((param) => {
    const v = values[(param as { name: string }).name];
    return typeof v === 'number' ? String(v) : `'${v}'`;
  });
  const explained = await database.db.execute(sql.raw(`explain execute files_list_after(${args.join(', ')})`));
  const plan = (explained as unknown as { rows: { 'QUERY PLAN': string }[] }).rows.map((r) => r['QUERY PLAN']).join('\n');
  expect(plan).toContain('files_user_created_idx');
  expect(plan).not.toContain('Seq Scan on files');
  await database.db.delete(users).where(eq(users.id, user!.id));
});

test('a name stands for one text, and two handles over one PGlite instance share its statements', async () => {
  expect(() => registerNamedStatement('named_things_test', 'select 1')).toThrow();
  expect(() => registerNamedStatement('named_things_other', named().getQuery().sql)).toThrow();
  const client = await PGlite.create('memory://');
  try {
    await client.exec(`set plan_cache_mode = force_generic_plan;
      create table named_things (id int primary key, name text not null, owner text, at timestamptz not null);
      insert into named_things values (5, 'five', null, '2001-01-01 00:00:00+00')`);
    for (const handle of [drizzle({ client: forDrizzle(client) }), drizzle({ client: forDrizzle(client) })]) {
      const rows = await handle.select().from(things)
        .where(sql`${things.at} < ${sql.placeholder('before')}::timestamptz and ${things.id} >= ${sql.placeholder('min')}`)
        .orderBy(things.id).prepare('named_things_test').execute({ before: '2027-01-01T00:00:00Z', min: 0 });
      expect(rows.map((r) => r.id)).toEqual([5]);
    }
    const [row] = (await client.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements where name = 'named_things_test'`)).rows;
    expect(row?.n).toBe(1);
  } finally {
    await client.close();
  }
});
