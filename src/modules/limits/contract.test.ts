/**
 * One contract, two limiters: the in-process one and the Redis one (against the machine's
 * Redis, unique key prefix), both on a controllable clock.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import Redis from 'ioredis';
import { requireRedis, TEST_REDIS_URL } from '../../../test/helpers/services';
import { coalesceConsumes } from './coalesce';
import { createMemoryLimiter } from './memory';
import { createRedisLimiter } from './redis';
import { sliceConsumes } from './slices';
import type { RateLimiter, WindowRule } from './types';

/** A manual clock starting on a whole second (so slot boundaries are easy to reason about). */
export function manualClock(start = 1_800_000_000_000) {
  let now = start;
  return { now: () => now, set: (t: number) => void (now = t), advance: (ms: number) => void (now += ms) };
}

type Clock = ReturnType<typeof manualClock>;

const IMPLS: Record<string, (clock: Clock) => Promise<{ limiter: RateLimiter; close(): Promise<void> }>> = {
  memory: async (clock) => {
    const limiter = createMemoryLimiter({ clock });
    return { limiter, close: () => limiter.close() };
  },
  redis: async (clock) => {
    await requireRedis();
    const redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
    const prefix = `pictor-test:${crypto.randomUUID()}:`;
    const limiter = createRedisLimiter(redis, { clock, prefix });
    return {
      limiter,
      close: async () => {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      },
    };
  },
  'redis+coalesce': async (clock) => {
    const inner = await IMPLS.redis!(clock);
    return { limiter: coalesceConsumes(inner.limiter), close: inner.close };
  },
  // The production stack (minus the failover) with every bucket of this suite listed for slices:
  // their limits are under 128 or their weights over one, so each stays exact and the contract
  // holds as it is; slices.test.ts covers the sliced decisions of large limits.
  'redis+coalesce+slices': async (clock) => {
    const inner = await IMPLS.redis!(clock);
    const buckets = ['b', 'bytes', 'x', 'y', 'ms'];
    return { limiter: sliceConsumes(coalesceConsumes(inner.limiter), { clock, buckets }), close: inner.close };
  },
};

describe.each(Object.keys(IMPLS))('RateLimiter contract: %s', (name) => {
  const clock = manualClock();
  const T0 = clock.now();
  let limiter: RateLimiter;
  let close: () => Promise<void>;
  let n = 0;
  /** A fresh key per test so tests cannot see each other's counts. */
  const fresh = () => `k${++n}`;
  const minute: WindowRule = { max: 5, windowMs: 60_000 };
  beforeAll(async () => {
    ({ limiter, close } = await IMPLS[name]!(clock));
  });
  afterAll(() => close());

  test('admits exactly max, then denies without consuming', async () => {
    clock.set(T0);
    const key = fresh();
    for (let i = 1; i <= 5; i++) {
      const d = await limiter.consume({ bucket: 'b', key, rule: minute });
      expect(d).toMatchObject({ allowed: true, limit: 5, remaining: 5 - i, retryAfterMs: 0 });
    }
    const denied = await limiter.consume({ bucket: 'b', key, rule: minute });
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    // The denial consumed nothing: a peek still sees exactly 5 counted.
    expect((await limiter.peek({ bucket: 'b', key, rule: { max: 6, windowMs: 60_000 } })).remaining).toBe(1);
  });

  test('consumeNow, where it answers, gives the decision consume would (counted when allowed); undefined defers to consume', async () => {
    clock.set(T0);
    const key = fresh();
    if (name === 'memory') expect(limiter.consumeNow).toBeDefined();
    let answeredNow = 0;
    for (let i = 1; i <= 7; i++) {
      const now = limiter.consumeNow?.({ bucket: 'b', key, rule: minute });
      if (now) answeredNow++;
      const d = now ?? (await limiter.consume({ bucket: 'b', key, rule: minute }));
      expect([i, d.allowed]).toEqual([i, i <= 5]);
      if (d.allowed) expect(d.remaining).toBe(5 - i);
    }
    // Exactly five counted, however each was decided.
    expect((await limiter.peek({ bucket: 'b', key, rule: { max: 6, windowMs: 60_000 } })).remaining).toBe(1);
    if (name === 'memory') expect(answeredNow).toBe(7);
  });

  test('the window slides: weight leaves a window after its slot\'s latest request, not before', async () => {
    clock.set(T0 + 200); // slot [T0, T0+1000)
    const key = fresh();
    expect((await limiter.consume({ bucket: 'b', key, rule: minute, weight: 1 })).resetAt).toBe(T0 + 60_200);
    clock.set(T0 + 500); // same slot, later: the slot (3 units) is released at T0 + 60 500
    const first = await limiter.consume({ bucket: 'b', key, rule: minute, weight: 2 });
    expect(first.resetAt).toBe(T0 + 60_500);
    clock.set(T0 + 30_000);
    await limiter.consume({ bucket: 'b', key, rule: minute, weight: 2 });
    clock.set(T0 + 40_000);
    const full = await limiter.consume({ bucket: 'b', key, rule: minute });
    expect(full).toMatchObject({ allowed: false, remaining: 0, resetAt: T0 + 60_500, retryAfterMs: 20_500 });
    // Four units only fit once the second batch has left too (at T0 + 90 000).
    expect((await limiter.peek({ bucket: 'b', key, rule: minute, weight: 4 })).retryAfterMs).toBe(50_000);
    clock.set(T0 + 60_499);
    expect((await limiter.consume({ bucket: 'b', key, rule: minute })).allowed).toBe(false);
    clock.set(T0 + 60_500);
    const after = await limiter.consume({ bucket: 'b', key, rule: minute });
    expect(after).toMatchObject({ allowed: true, remaining: 2, resetAt: T0 + 90_000 });
    clock.set(T0 + 200_000);
    expect(await limiter.peek({ bucket: 'b', key, rule: minute })).toMatchObject({ allowed: true, remaining: 5, resetAt: T0 + 200_000 });
  });

  test('weights count units (bytes), the request that crosses is refused, oversize never fits', async () => {
    clock.set(T0);
    const key = fresh();
    const bytes: WindowRule = { max: 1000, windowMs: 3_600_000 };
    expect((await limiter.consume({ bucket: 'bytes', key, rule: bytes, weight: 600 })).remaining).toBe(400);
    const crossing = await limiter.consume({ bucket: 'bytes', key, rule: bytes, weight: 401 });
    expect(crossing).toMatchObject({ allowed: false, remaining: 400 });
    // Released an hour after its slot's latest request: never a wait longer than the window.
    expect(crossing.retryAfterMs).toBe(3_600_000);
    expect((await limiter.consume({ bucket: 'bytes', key, rule: bytes, weight: 400 })).remaining).toBe(0);
    const huge = await limiter.peek({ bucket: 'bytes', key: fresh(), rule: bytes, weight: 1001 });
    expect(huge.allowed).toBe(false);
    expect(huge.retryAfterMs).toBe(3_600_000);
  });

  test('buckets and keys are independent; consumeMany decides each', async () => {
    clock.set(T0);
    const key = fresh();
    const one: WindowRule = { max: 1, windowMs: 1000 };
    const [a, b, c] = await limiter.consumeMany([
      { bucket: 'x', key, rule: one },
      { bucket: 'y', key, rule: one },
      { bucket: 'x', key, rule: one },
    ]);
    expect([a!.allowed, b!.allowed, c!.allowed]).toEqual([true, true, false]);
    expect((await limiter.consume({ bucket: 'x', key: fresh(), rule: one })).allowed).toBe(true);
  });

  test('millisecond windows are exact (slot of 1 ms)', async () => {
    clock.set(T0);
    const key = fresh();
    const tiny: WindowRule = { max: 2, windowMs: 50 };
    await limiter.consume({ bucket: 'ms', key, rule: tiny });
    clock.set(T0 + 10);
    await limiter.consume({ bucket: 'ms', key, rule: tiny });
    clock.set(T0 + 49);
    expect((await limiter.consume({ bucket: 'ms', key, rule: tiny })).allowed).toBe(false);
    clock.set(T0 + 50);
    expect(await limiter.consume({ bucket: 'ms', key, rule: tiny })).toMatchObject({ allowed: true, resetAt: T0 + 60 });
  });

  test('concurrency leases: max at once, release frees, renew extends, expiry frees a lost lease', async () => {
    clock.set(T0);
    const key = fresh();
    const a = await limiter.acquire('conc', key, 2, 10_000);
    const b = await limiter.acquire('conc', key, 2, 10_000);
    expect([a.allowed, b.allowed]).toEqual([true, true]);
    expect(b.remaining).toBe(0);
    expect(a.resetAt).toBe(T0 + 10_000);
    const c = await limiter.acquire('conc', key, 2, 10_000);
    expect(c).toMatchObject({ allowed: false, leaseId: null, remaining: 0 });
    await limiter.release('conc', key, a.leaseId!);
    await limiter.release('conc', key, a.leaseId!); // idempotent
    const d = await limiter.acquire('conc', key, 2, 10_000);
    expect(d.allowed).toBe(true);
    clock.set(T0 + 8_000);
    expect(await limiter.renew('conc', key, d.leaseId!, 10_000)).toBe(true); // d now lasts until T0 + 18 000
    clock.set(T0 + 10_000); // b (never released: its holder "crashed") lapses
    const e = await limiter.acquire('conc', key, 2, 10_000);
    expect(e.allowed).toBe(true);
    expect(await limiter.renew('conc', key, b.leaseId!, 10_000)).toBe(false);
    expect((await limiter.acquire('conc', key, 2, 10_000)).allowed).toBe(false);
    clock.set(T0 + 30_000);
    expect((await limiter.acquire('conc', key, 2, 10_000)).remaining).toBe(1);
  });
});
