/**
 * Coalescing (coalesce.ts): concurrent consumes of one key share one inner call when they all
 * fit, each caller sees the `remaining` of serial execution, a batch that does not fit is
 * decided call by call (never more allowed than the limit), and failures reach every caller.
 * The inner limiter is the real in-process one (counted), plus the real Redis one.
 */
import { describe, expect, test } from 'bun:test';
import Redis from 'ioredis';
import { requireRedis, TEST_REDIS_URL } from '../../../test/helpers/services';
import { coalesceConsumes } from './coalesce';
import { createMemoryLimiter } from './memory';
import { createRedisLimiter } from './redis';
import type { ConsumeRequest, RateLimiter } from './types';

/** A fixed clock: nothing here depends on time passing. */
const manualClock = () => ({ now: () => 1_800_000_000_000 });

/** The in-process limiter, recording the weight of every consume that reaches it. */
function countedMemory() {
  const inner = createMemoryLimiter({ clock: manualClock() });
  const calls: number[] = [];
  const limiter: RateLimiter = { ...inner, kind: 'memory', consume: (req) => (calls.push(req.weight ?? 1), inner.consume(req)) };
  return { limiter, calls };
}

const req = (key: string, max: number, weight = 1): ConsumeRequest => ({ bucket: 'public', key, rule: { max, windowMs: 60_000 }, weight });

describe('coalesced consumes', () => {
  test('concurrent calls that fit: one inner call, serial remaining values', async () => {
    const { limiter, calls } = countedMemory();
    const c = coalesceConsumes(limiter);
    const ds = await Promise.all([1, 2, 3, 4, 5].map(() => c.consume(req('ip1', 100))));
    expect(calls).toEqual([5]);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
    expect(ds.map((d) => d.remaining)).toEqual([99, 98, 97, 96, 95]);
    // Weights add up; other keys and rules are separate batches.
    const mixed = await Promise.all([c.consume(req('ip1', 100, 3)), c.consume(req('ip2', 100)), c.consume(req('ip1', 100, 2)), c.consume(req('ip3', 50))]);
    expect(calls.slice(1).sort()).toEqual([1, 1, 5]);
    expect(mixed.map((d) => d.remaining)).toEqual([92, 99, 90, 49]);
  });

  test('a batch over the limit is decided call by call: exactly the limit is allowed', async () => {
    const { limiter, calls } = countedMemory();
    const c = coalesceConsumes(limiter);
    const ds = await Promise.all(Array.from({ length: 10 }, () => c.consume(req('ip', 7))));
    expect(ds.filter((d) => d.allowed).length).toBe(7);
    expect(ds.slice(0, 7).map((d) => d.remaining)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(ds.slice(7).every((d) => !d.allowed && d.retryAfterMs > 0)).toBe(true);
    expect(calls).toEqual([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  test('a failing inner call rejects every caller of the batch', async () => {
    const { limiter } = countedMemory();
    const c = coalesceConsumes({ ...limiter, kind: 'memory', consume: () => Promise.reject(new Error('redis down')) });
    const rs = await Promise.allSettled([c.consume(req('ip', 10)), c.consume(req('ip', 10))]);
    expect(rs.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  test('against Redis: 40 concurrent calls with max 25 allow exactly 25', async () => {
    await requireRedis();
    const redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    const prefix = `pictor-test:${crypto.randomUUID()}:`;
    try {
      const c = coalesceConsumes(createRedisLimiter(redis, { clock: manualClock(), prefix }));
      const ds = await Promise.all(Array.from({ length: 40 }, () => c.consume(req('ip', 25))));
      expect(ds.filter((d) => d.allowed).length).toBe(25);
      const again = await c.consume(req('ip', 25));
      expect(again.allowed).toBe(false);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
