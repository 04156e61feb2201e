/**
 * Local slices (slices.ts) over the real Redis limiter (behind coalescing, as in production) on an
 * injected clock: from an idle start one process admits exactly `max` with a fraction of the
 * script calls; several processes sharing one Redis never admit more than `max + processes ×
 * slice` in any true window (random interleavings, bursts of concurrent requests, clock jumps),
 * and a refusal only comes once at least `max − 2 × processes × slice` were admitted; refused
 * requests cost one call each; a full key table decides new keys exactly and strands nothing;
 * buckets not listed stay exact.
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { useLimiterRedis } from '../../../test/helpers/limiter-redis';
import { coalesceConsumes } from './coalesce';
import { createRedisLimiter } from './redis';
import { sliceConsumes, sliceOf } from './slices';
import { slotMsOf, type ConsumeRequest, type RateLimiter, type WindowRule } from './types';

const prefix = `pictor-slices:${crypto.randomUUID()}:`;
const limiterRedis = useLimiterRedis(prefix);

/** The Redis limiter behind coalescing, counting the script calls that leave. */
function countingRedis(clock: { now(): number }) {
  const inner = createRedisLimiter(limiterRedis.redis, { clock, prefix });
  const calls = { n: 0 };
  const counted: RateLimiter = {
    ...inner,
    kind: inner.kind,
    consume: (req) => {
      calls.n++;
      return inner.consume(req);
    },
  };
  return { limiter: coalesceConsumes(counted), calls };
}

let run = 0;

describe('local slices of a shared budget', () => {
  test('slice sizes: 1/64 of the limit; small limits are not sliced', () => {
    expect(sliceOf(6000)).toBe(93);
    expect(sliceOf(640)).toBe(10);
    expect(sliceOf(127)).toBe(1);
    expect(sliceOf(5)).toBe(1);
  });

  test('consumeNow spends the local slice without a call, and defers (undefined) when a reservation or Redis is needed', async () => {
    const now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 640, windowMs: 60_000 };
    const key = `now${++run}`;
    expect(sliced.consumeNow!({ bucket: 'public', key, rule })).toBeUndefined();
    expect((await sliced.consume({ bucket: 'public', key, rule })).remaining).toBe(639);
    expect(calls.n).toBe(1);
    for (let i = 2; i <= sliceOf(640); i++) {
      expect(sliced.consumeNow!({ bucket: 'public', key, rule })).toMatchObject({ allowed: true, remaining: 640 - i });
    }
    expect(sliced.consumeNow!({ bucket: 'public', key, rule })).toBeUndefined(); // the slice is spent
    expect(sliced.consumeNow!({ bucket: 'login', key, rule })).toBeUndefined(); // exact buckets always ask Redis
    expect(calls.n).toBe(1);
    expect((await sliced.consume({ bucket: 'public', key, rule })).remaining).toBe(640 - sliceOf(640) - 1);
  });

  test('from an idle start one process admits exactly max, remaining counts down by one, in about max / slice calls', async () => {
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

  test('a burst larger than the slice: one reservation, the rest decided exactly in one coalesced call', async () => {
    const now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 6400, windowMs: 60_000 }; // slices of 100
    const key = `bigburst${++run}`;
    const ds = await Promise.all(Array.from({ length: 250 }, () => sliced.consume({ bucket: 'public', key, rule })));
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect(calls.n).toBe(2);
    expect((await limiter.peek({ bucket: 'public', key, rule })).remaining).toBe(6400 - 250);
  });

  test('at the limit a refused request costs one call, as without slices; a slot later a reservation is tried again', async () => {
    let now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 640, windowMs: 60_000 }; // slices of 10, slots of 1 s
    const key = `full${++run}`;
    for (let i = 0; i < 640; i++) expect((await sliced.consume({ bucket: 'public', key, rule })).allowed).toBe(true);
    const before = calls.n;
    for (let i = 0; i < 20; i++) {
      expect((await sliced.consume({ bucket: 'public', key, rule })).allowed).toBe(false);
      now += 10;
    }
    // The first refusal tried a reservation as well; the 19 after it went straight to one exact call.
    expect(calls.n - before).toBe(21);
    now += 1000;
    await sliced.consume({ bucket: 'public', key, rule });
    expect(calls.n - before).toBe(23);
  });

  test('X-RateLimit-Reset is never in the past, even once the reservation\'s reset has gone by', async () => {
    const t0 = 1_800_000_000_000;
    let now = t0;
    const clock = { now: () => now };
    const { limiter } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'] });
    const rule: WindowRule = { max: 640, windowMs: 60_000 };
    const key = `reset${++run}`;
    for (let i = 0; i < 10; i++) await sliced.consume({ bucket: 'public', key, rule }); // slice A, used up
    now = t0 + 59_000;
    const b = await sliced.consume({ bucket: 'public', key, rule }); // slice B; the oldest counted weight leaves at t0 + 60 s
    expect(b.resetAt).toBe(t0 + 60_000);
    now = t0 + 61_000;
    const later = await sliced.consume({ bucket: 'public', key, rule });
    expect(later.allowed).toBe(true);
    expect(later.resetAt).toBeGreaterThan(now);
    expect(later.resetAt).toBe(t0 + 59_000 + 60_000);
  });

  test('a full key table decides new keys exactly and strands no counted unit; lapsed slices make room', async () => {
    let now = 1_800_000_000_000;
    const clock = { now: () => now };
    const { limiter, calls } = countingRedis(clock);
    const sliced = sliceConsumes(limiter, { clock, buckets: ['public'], maxKeys: 3 });
    const rule: WindowRule = { max: 640, windowMs: 60_000 };
    const keys = [1, 2, 3].map((i) => `table${++run}-${i}`);
    for (const key of keys) await sliced.consume({ bucket: 'public', key, rule });
    expect(calls.n).toBe(3);
    const newcomer = `table${++run}-new`;
    for (let i = 0; i < 5; i++) expect((await sliced.consume({ bucket: 'public', key: newcomer, rule })).allowed).toBe(true);
    expect(calls.n).toBe(8); // exactly: one call each
    // The first keys still spend their slices: nothing they reserved was thrown away.
    for (const key of keys) await sliced.consume({ bucket: 'public', key, rule });
    expect(calls.n).toBe(8);
    now += 60_000; // every slice lapses
    await sliced.consume({ bucket: 'public', key: newcomer, rule });
    await sliced.consume({ bucket: 'public', key: newcomer, rule });
    expect(calls.n).toBe(9); // the newcomer got a slice
  });

  test('several processes sharing Redis: within max + processes × slice in every window, never refused below max − 2 × processes × slice', async () => {
    const step = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('consume' as const), who: fc.nat(2), n: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('burst' as const), who: fc.nat(2), n: fc.integer({ min: 2, max: 30 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 40_000 })) }) },
    );
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
          const limiters = Array.from({ length: instances }, () =>
            sliceConsumes(coalesceConsumes(createRedisLimiter(limiterRedis.redis, { clock, prefix })), { clock, buckets: ['public'] }));
          const req: ConsumeRequest = { bucket: 'public', key: `prop${++run}`, rule };
          const admitted: number[] = [];
          const inWindow = (from: number, to: number) => admitted.filter((t) => t >= from && t <= to).length;
          const record = (at: number, allowed: boolean) => {
            if (allowed) return void admitted.push(at);
            refused++;
            // Refused: Redis counted at least max over the window (the quantised window may hold
            // weight one slot longer); of that, at most two slices per process went unspent.
            expect(inWindow(at - rule.windowMs - slotMsOf(rule.windowMs), at)).toBeGreaterThanOrEqual(max - 2 * instances * slice);
          };
          let refused = 0;
          for (const s of steps) {
            if (s.op === 'wait') {
              now += s.ms;
              continue;
            }
            const limiter = limiters[s.who % instances]!;
            if (s.op === 'burst') {
              const at = now;
              for (const d of await Promise.all(Array.from({ length: s.n }, () => limiter.consume(req)))) record(at, d.allowed);
            } else {
              for (let i = 0; i < s.n; i++) {
                record(now, (await limiter.consume(req)).allowed);
                now += 7;
              }
            }
          }
          // Then the processes take turns until one is refused: every run meets the limit.
          for (let i = 0; refused === 0 && i <= max + instances * slice; i++) {
            record(now, (await limiters[i % instances]!.consume(req)).allowed);
            now += 7;
          }
          expect(refused).toBeGreaterThan(0);
          for (const t of admitted) expect(inWindow(t, t + rule.windowMs - 1)).toBeLessThanOrEqual(max + instances * slice);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
