/**
 * Which buckets count in local slices of the shared budget (slices.ts) once Redis is configured:
 * the high-volume ones (`public`, `transform`, `api`) reserve a slice in Redis and spend it in
 * process; the strict ones (login, register, uploads, …) count every request in Redis. Read
 * back from Redis itself: after 20 requests, a sliced bucket's window holds one slice (100 units
 * of a 6400 limit), an exact one holds the 20.
 */
import { expect, test } from 'bun:test';
import Redis from 'ioredis';
import { requireRedis, TEST_REDIS_URL } from '../../../test/helpers/services';
import type { Config } from '../../config';
import { createLogger } from '../../logger';
import { createRedisLimiter } from './redis';
import { createLimiter, SLICED_BUCKETS } from './service';

test('public, transform and api spend local slices; the other buckets count each request in Redis', async () => {
  await requireRedis();
  const redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
  // Connected first: until then the limiter decides in process (failover.ts), which is not what is tested.
  if (redis.status !== 'ready') await new Promise((ready) => redis.once('ready', ready));
  const clock = { now: () => Date.now() };
  const limiter = createLimiter({} as Config, redis, clock, createLogger('error'));
  const shared = createRedisLimiter(redis, { clock });
  const rule = { max: 6400, windowMs: 60_000 };
  const key = `buckets-test-${crypto.randomUUID()}`;
  try {
    const counted: Record<string, number> = {};
    for (const bucket of ['public', 'transform', 'api', 'login', 'register', 'upload_count']) {
      for (let i = 0; i < 20; i++) expect((await limiter.consume({ bucket, key, rule })).allowed).toBe(true);
      counted[bucket] = rule.max - (await shared.peek({ bucket, key, rule })).remaining;
    }
    expect(counted).toEqual({ public: 100, transform: 100, api: 100, login: 20, register: 20, upload_count: 20 });
    expect([...SLICED_BUCKETS].sort()).toEqual(['api', 'public', 'transform']);
  } finally {
    await limiter.close();
    const keys = await redis.keys(`*${key}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
});
