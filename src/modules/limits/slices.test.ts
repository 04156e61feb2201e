/**
 * Local slices (slices.ts) over the real Redis limiter on an injected clock: one instance admits
 * exactly `max` with a fraction of the script calls; several instances sharing one Redis never
 * admit more than `max + instances × slice` in any true window (random interleavings, bursts of
 * concurrent requests, clock jumps), and a refusal only comes once at least
 * `max − 2 × instances × slice` were admitted; buckets not listed stay exact.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import Redis from 'ioredis';
import { defineWindowWithoutExpiry } from '../../../test/helpers/limiter-redis';
import { requireRedis, TEST_REDIS_URL } from '../../../test/helpers/services';
import { createRedisLimiter } from './redis';
import { sliceConsumes, sliceOf } from './slices';
import { slotMsOf, type ConsumeRequest, type RateLimiter, type WindowRule } from './types';

let redis: Redis;
const prefix = `pictor-slices:${crypto.randomUUID()}:`;
beforeAll(async () => {
  await requireRedis();
  redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
  defineWindowWithoutExpiry(redis);
}, 15_000);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** The Redis limiter, counting its script calls. */
function countingRedis(clock: { now(): number }) {
  const inner = createRedisLimiter(redis, { clock, prefix });
  const calls = { n: 0 };
  const limiter: RateLimiter = {
    ...inner,
    kind: inner.kind,
    consume: (req) => {
      calls.n++;
      return inner.consume(req);
    },
  };
  return { limiter, calls };
}

let run = 0;

describe('local slices of a shared budget', () => {
  test('slice sizes: 1/64 of the limit; small limits are not sliced', () => {
    expect(sliceOf(6000)).toBe(93);
    expect(sliceOf(640)).toBe(10);
    expect(sliceOf(127)).toBe(1);
    expect(sliceOf(5)).toBe(1);
  });

  test('one instance admits exactly max, remaining counts down by one, in about max / slice calls', async () => {
    let now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 640, windowMs: 60_000 };
    const key = `one${++run}`;
    for (let i = 1; i <= 640; i++) {
      const d = await sliced.consume({ bucket: 'public', key, rule });
      expect([i, d.allowed, d.remaining]).toEqual([i, true, 640 - i]);
      now += 10;
    }
    const denied = await sliced.consume({ bucket: 'public', key, rule });
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    // 64 slices of 10, one refused reservation and the exact refusal.
    expect(calls.n).toBeLessThanOrEqual(66);
    // A bucket not listed is exact: one call per request.
    const before = calls.n;
    for (let i = 0; i < 20; i++) await sliced.consume({ bucket: 'login', key, rule });
    expect(calls.n - before).toBe(20);
  });

  test('concurrent requests of one key wait for one reservation instead of each reserving', async () => {
    const now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 6400, windowMs: 60_000 }; // slices of 100
    const key = `burst${++run}`;
    const ds = await Promise.all(Array.from({ length: 100 }, () => sliced.consume({ bucket: 'public', key, rule })));
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(calls.n).toBe(1);
    expect(new Set(ds.map((d) => d.remaining)).size).toBe(100);
  });

  test('several instances sharing Redis: within max + instances × slice in every window, never refused below max − 2 × instances × slice', async () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('consume' as const), who: fc.nat(2), n: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('burst' as const), who: fc.nat(2), n: fc.integer({ min: 2, max: 30 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 40_000 })) }) },
    );
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(200, 640, 1000),
        fc.array(step, { minLength: 1, maxLength: 50 }),
        async (instances, max, steps) => {
          let now = 1_800_000_000_000;
          const clock = { now: () => now };
          const rule: WindowRule = { max, windowMs: 60_000 };
          const slice = sliceOf(max);
          const limiters = Array.from({ length: instances }, () => sliceConsumes(createRedisLimiter(redis, { clock, prefix }), { clock, buckets: ['public'] }));
          const req: ConsumeRequest = { bucket: 'public', key: `prop${++run}`, rule };
          const admitted: number[] = [];
          const inWindow = (from: number, to: number) => admitted.filter((t) => t >= from && t <= to).length;
          for (const s of steps) {
            if (s.op === 'wait') {
              now += s.ms;
              continue;
            }
            const limiter = limiters[s.who % instances]!;
            const decided: { at: number; allowed: boolean }[] = [];
            if (s.op === 'burst') {
              const at = now;
              for (const d of await Promise.all(Array.from({ length: s.n }, () => limiter.consume(req)))) decided.push({ at, allowed: d.allowed });
            } else {
              for (let i = 0; i < s.n; i++) {
                decided.push({ at: now, allowed: (await limiter.consume(req)).allowed });
                now += 7;
              }
            }
            for (const d of decided) {
              if (d.allowed) admitted.push(d.at);
              else {
                refusals++;
                // Refused: Redis counted at least max over the window (the quantised window may hold
                // weight one slot longer); of that, at most two slices per instance went unspent.
                expect(inWindow(d.at - rule.windowMs - slotMsOf(rule.windowMs), d.at)).toBeGreaterThanOrEqual(max - 2 * instances * slice);
              }
            }
          }
          for (const t of admitted) expect(inWindow(t, t + rule.windowMs - 1)).toBeLessThanOrEqual(max + instances * slice);
        },
      ),
      { numRuns: 60 },
    );
    // The runs reached the limit, so the bounds were exercised where they matter.
    expect(refusals).toBeGreaterThan(0);
  }, 120_000);
});
