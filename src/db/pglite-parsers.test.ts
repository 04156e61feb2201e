/**
 * The PGlite client handed to drizzle (pglite-parsers.ts) answers exactly as the plain one, in
 * and out of transactions, while no query reaches PGlite with per-query parsers.
 */
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql } from 'drizzle-orm';
import { date, integer, interval, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { forDrizzle } from './pglite-parsers';

const things = pgTable('things', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  plain: timestamp('plain', { mode: 'string' }),
  day: date('day'),
  span: interval('span'),
  amounts: numeric('amounts').array(),
  times: timestamp('times', { withTimezone: true, mode: 'string' }).array(),
});

let client: PGlite;
const seen: (Record<string, unknown> | undefined)[] = [];

beforeAll(async () => {
  client = await PGlite.create('memory://');
  await client.exec(`create table things (id int primary key, name text not null, at timestamptz not null, plain timestamp,
    day date, span interval, amounts numeric[], times timestamptz[])`);
  await client.query(`insert into things values
    (1, 'one', '2026-12-05 01:02:03.456+00', '2026-01-02 03:04:05', '2026-12-05', '1 day 02:00:00', '{1.50,2}', '{"2026-12-05 01:00:00+00"}'),
    (2, 'two', '2020-02-29 23:59:59+00', null, null, null, null, null)`);
  // Records the options each query reaches PGlite with.
  const query = client.query.bind(client);
  client.query = ((q: string, params?: unknown[], options?: Record<string, unknown>) => {
    seen.push(options);
    return query(q, params, options);
  }) as PGlite['query'];
  const transaction = client.transaction.bind(client);
  client.transaction = (<T>(callback: (tx: Transaction) => Promise<T>) => transaction((tx) => {
    const txQuery = tx.query.bind(tx);
    const recording = new Proxy(tx, {
      get(t, key) {
        if (key === 'query') {
          return (q: string, params?: unknown[], options?: Record<string, unknown>) => {
            seen.push(options);
            return txQuery(q, params, options);
          };
        }
        const value: unknown = Reflect.get(t, key, t);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
    return callback(recording);
  })) as PGlite['transaction'];
});

afterAll(async () => {
  await client.close();
});

describe('the PGlite client handed to drizzle', () => {
  test('answers as the plain client does, with no per-query parsers', async () => {
    const plain = drizzle({ client });
    seen.length = 0;
    const before = await plain.select().from(things).orderBy(things.id);
    const raw = await plain.execute(sql`select * from things order by id`);
    expect(seen.some((o) => o?.parsers)).toBe(true); // drizzle sends them on its own

    const wrapped = drizzle({ client: forDrizzle(client) });
    seen.length = 0;
    expect(await wrapped.select().from(things).orderBy(things.id)).toEqual(before);
    expect((await wrapped.execute(sql`select * from things order by id`)).rows).toEqual(raw.rows);
    expect(seen.length).toBe(2);
    expect(seen.every((o) => o?.parsers === undefined)).toBe(true);

    // The values drizzle maps from text came through as it expects.
    const first = before[0]!;
    expect(first.at).toEqual(new Date('2026-12-05T01:02:03.456Z'));
    expect(first.plain).toBe('2026-01-02 03:04:05');
    expect(first.day).toBe('2026-12-05');
    expect(first.span).toBe('1 day 02:00:00');
  });

  test('a parser of another type still applies', async () => {
    const wrapped = forDrizzle(client);
    const upper = (value: string) => value.toUpperCase();
    seen.length = 0;
    const res = await wrapped.query<{ name: string }>('select name from things where id = 1', [], { parsers: { [types.TEXT]: upper } });
    expect(res.rows[0]?.name).toBe('ONE');
    expect(seen[0]?.parsers).toBeDefined();
  });

  test('queries inside a transaction go without per-query parsers too, and a rollback holds', async () => {
    seen.length = 0;
    await drizzle({ client }).transaction(async (tx) => tx.select().from(things));
    expect(seen.some((o) => o?.parsers)).toBe(true);

    const wrapped = drizzle({ client: forDrizzle(client) });
    seen.length = 0;
    const inside = await wrapped.transaction(async (tx) => {
      await tx.insert(things).values({ id: 3, name: 'three', at: new Date('2026-01-01T00:00:00Z') });
      return tx.select().from(things).where(sql`id = 3`);
    });
    expect(inside.map((r) => r.name)).toEqual(['three']);
    expect(seen.length).toBe(2);
    expect(seen.every((o) => o?.parsers === undefined)).toBe(true);
    await expect(wrapped.transaction(async (tx) => {
      await tx.insert(things).values({ id: 4, name: 'four', at: new Date() });
      throw new Error('roll back');
    })).rejects.toThrow('roll back');
    const ids = (await wrapped.select({ id: things.id }).from(things).orderBy(things.id)).map((r) => r.id);
    expect(ids).toEqual([1, 2, 3]);
  });
});
