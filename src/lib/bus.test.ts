/**
 * The cross-instance bus on a real Redis and a real Postgres: when its listening connection is
 * lost, every handler hears `MISSED` (the caches forget what may have changed meanwhile; they
 * served a file made private, or a revoked key, until their TTL), and messages flow again after.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import Redis from 'ioredis';
import postgres from 'postgres';
import { openDatabase } from '../db/client';
import { createLogger } from '../logger';
import { createTestDatabase, TEST_REDIS_URL } from '../../test/helpers/services';
import { until } from '../../test/helpers/until';
import { createPostgresBus, createRedisBus, MISSED, type Bus } from './bus';

const log = createLogger('silent');
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

/** Publishes `message` until the handler's list has it (a subscription may still be on its way back). */
async function delivered(bus: Bus, got: string[], message: string): Promise<void> {
  await until(`"${message}" to arrive`, async () => {
    if (got.includes(message)) return true;
    await bus.publish('t', message);
    await Bun.sleep(50);
    return got.includes(message) ? true : null;
  }, 30_000);
}

describe('bus', () => {
  test('Redis: the subscriber connection killed → MISSED, then messages again', async () => {
    const name = `pictor-bus-test-${process.pid}-${Date.now()}`;
    // The bus's own connection is a duplicate of this client, with its name.
    const redis = new Redis(TEST_REDIS_URL, { connectionName: name, maxRetriesPerRequest: 1 });
    const bus = createRedisBus(redis, log);
    closers.push(async () => redis.disconnect(), () => bus.close());
    const got: string[] = [];
    await bus.subscribe('t', (m) => got.push(m));
    await delivered(bus, got, 'before');
    got.length = 0;
    const clients = String(await redis.client('LIST')).split('\n').filter((l) => l.includes(` name=${name} `) && / sub=[1-9]/.test(l));
    expect(clients).toHaveLength(1);
    await redis.client('KILL', 'ID', /id=(\d+)/.exec(clients[0]!)![1]!);
    await until('MISSED', async () => (got.includes(MISSED) ? true : null), 30_000);
    await delivered(bus, got, 'after');
  }, 60_000);

  test('Redis: deployments on two databases of one server do not hear each other (channels are server-wide)', async () => {
    const buses = [14, 15].map((db) => {
      const redis = new Redis(`${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${db}`, { maxRetriesPerRequest: 1 });
      const bus = createRedisBus(redis, log);
      closers.push(async () => redis.disconnect(), () => bus.close());
      return bus;
    });
    const got14: string[] = [];
    const got15: string[] = [];
    await buses[0]!.subscribe('t', (m) => got14.push(m));
    await buses[1]!.subscribe('t', (m) => got15.push(m));
    await delivered(buses[1]!, got15, 'for 15');
    await delivered(buses[0]!, got14, 'for 14');
    // Each heard its own (maybe twice: \`delivered\` publishes again while one is on its way), never the other's.
    expect([[...new Set(got14.filter((m) => m !== MISSED))], [...new Set(got15.filter((m) => m !== MISSED))]]).toEqual([['for 14'], ['for 15']]);
  }, 60_000);

  test('Redis: a message the publishing instance could not send → MISSED to the others once it can again (they never knew)', async () => {
    // As the server's client (lib/redis-client.ts): commands fail at once while disconnected.
    const publisher = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    await publisher.connect();
    const listener = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const [busA, busB] = [createRedisBus(publisher, log), createRedisBus(listener, log)];
    closers.push(async () => publisher.disconnect(), async () => listener.disconnect(), () => busA.close(), () => busB.close());
    const got: string[] = [];
    await busB.subscribe('t', (m) => got.push(m));
    await delivered(busA, got, 'before');
    got.length = 0;
    publisher.disconnect();
    expect(await busA.publish('t', 'lost').then(() => 'sent', () => 'refused')).toBe('refused');
    await until('the publisher to be closed', async () => (publisher.status === 'end' ? true : null), 10_000);
    await publisher.connect();
    await until('MISSED from the publisher', async () => (got.includes(MISSED) ? true : null), 30_000);
    expect(got).not.toContain('lost');
  }, 60_000);

  test('Postgres: the LISTEN connection terminated → MISSED, then messages again', async () => {
    const tdb = await createTestDatabase();
    const database = await openDatabase({ url: tdb.url, pool: 2 });
    const bus = createPostgresBus(database);
    const admin = postgres(tdb.url, { max: 1, onnotice: () => {} });
    closers.push(() => tdb.drop(), () => database.close(), () => admin.end(), () => bus.close());
    const got: string[] = [];
    await bus.subscribe('t', (m) => got.push(m));
    await delivered(bus, got, 'before');
    got.length = 0;
    const ended = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = current_database() and query ilike 'listen%'`;
    expect(ended.map((r) => r.ok)).toEqual([true]);
    await until('MISSED', async () => (got.includes(MISSED) ? true : null), 30_000);
    await delivered(bus, got, 'after');
  }, 60_000);
});
