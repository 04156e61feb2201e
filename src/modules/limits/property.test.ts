/**
 * Property test: random sequences of consume/peek/time steps give identical decisions from
 * the in-process limiter, the Redis limiter and a deliberately naive reference model (a plain
 * event log); and what they admit never exceeds `max` in any true window of `windowMs`.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import Redis from 'ioredis';
import { requireRedis, TEST_REDIS_URL } from '../../../test/helpers/services';
import { createMemoryLimiter } from './memory';
import { createRedisLimiter } from './redis';
import { slotMsOf, type WindowDecision, type WindowRule } from './types';

/** The rule, spelled out as simply as possible: an event counts until its slot's end + window. */
class ReferenceModel {
  private events: { at: number; weight: number }[] = [];
  decide(now: number, rule: WindowRule, weight: number, consume: boolean): WindowDecision {
    const slot = slotMsOf(rule.windowMs);
    const release = (at: number) => (Math.floor(at / slot) + 1) * slot + rule.windowMs;
    const live = this.events.filter((e) => release(e.at) > now).sort((a, b) => a.at - b.at);
    const total = live.reduce((s, e) => s + e.weight, 0);
    const allowed = total + weight <= rule.max;
    if (allowed && consume && weight > 0) this.events.push({ at: now, weight });
    const counted = allowed && consume && weight > 0 ? [...live, { at: now, weight }] : live;
    const after = counted.reduce((s, e) => s + e.weight, 0);
    let retryAt = now;
    if (!allowed) {
      if (weight > rule.max) retryAt = counted.length ? release(counted[counted.length - 1]!.at) : now + rule.windowMs;
      else {
        let freed = 0;
        for (const e of counted) {
          freed += e.weight;
          if (freed >= total + weight - rule.max) {
            retryAt = release(e.at);
            break;
          }
        }
      }
    }
    return {
      allowed,
      limit: rule.max,
      remaining: Math.max(0, rule.max - after),
      resetAt: counted.length ? release(counted[0]!.at) : now,
      retryAfterMs: retryAt - now,
    };
  }
}

let redis: Redis;
const prefix = `pictor-prop:${crypto.randomUUID()}:`;
beforeAll(async () => {
  await requireRedis();
  redis = new Redis(TEST_REDIS_URL, { enableAutoPipelining: true });
}, 15_000);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const step = fc.oneof(
  fc.record({ op: fc.constant('consume' as const), weight: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('peek' as const), weight: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3000 })) }),
);

test('memory, Redis and the reference model agree on every decision', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({ max: fc.integer({ min: 1, max: 10 }), windowMs: fc.constantFrom(20, 100, 1000, 2500, 60_000) }),
      fc.array(step, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 10_000 }),
      async (rule, steps, offset) => {
        let now = 1_800_000_000_000 + offset;
        const clock = { now: () => now };
        const memory = createMemoryLimiter({ clock });
        const shared = createRedisLimiter(redis, { clock, prefix });
        const ref = new ReferenceModel();
        const key = `run${++run}`;
        const admitted: { at: number; weight: number }[] = [];
        for (const s of steps) {
          if (s.op === 'wait') {
            now += s.ms;
            continue;
          }
          const req = { bucket: 'p', key, rule, weight: s.weight };
          const consume = s.op === 'consume';
          const expected = ref.decide(now, rule, s.weight, consume);
          const [m, r] = consume
            ? await Promise.all([memory.consume(req), shared.consume(req)])
            : await Promise.all([memory.peek(req), shared.peek(req)]);
          expect(m).toEqual(expected);
          expect(r).toEqual(expected);
          if (consume && expected.allowed) admitted.push({ at: now, weight: s.weight });
        }
        // Safety against an exact sliding log: no window of windowMs ever holds more than max.
        for (const a of admitted) {
          const inWindow = admitted.filter((b) => b.at >= a.at && b.at < a.at + rule.windowMs).reduce((x, b) => x + b.weight, 0);
          expect(inWindow).toBeLessThanOrEqual(rule.max);
        }
      },
    ),
    { numRuns: 150 },
  );
}, 60_000);
