/**
 * Property test: random sequences of consume/peek/time steps give identical decisions from
 * the in-process limiter, the Redis limiter and a deliberately naive reference model (a plain
 * event log); and what they admit never exceeds `max` in any true window of `windowMs`.
 *
 * Decisions run on an injected clock that jumps ahead, while Redis expires keys on its own real
 * clock: a slow step on a loaded machine let a key expire that the injected clock still counted.
 * So the test's Redis runs the limiter's own script with its PEXPIRE recorded instead of applied:
 * no key expires mid-test (the script's own rule, which drops slots older than the window, is
 * what decides), and the expiry the script would set must match the reference model's.
 */
import { expect, test } from 'bun:test';
import fc from 'fast-check';
import { useLimiterRedis } from '../../../test/helpers/limiter-redis';
import { createMemoryLimiter } from './memory';
import { createRedisLimiter } from './redis';
import { slotMsOf, type WindowDecision, type WindowRule } from './types';

/** The rule, spelled out as simply as possible: an event counts until a window after the latest event of its slot. */
class ReferenceModel {
  private events: { at: number; weight: number }[] = [];
  private releaseOf(rule: WindowRule): (at: number) => number {
    const slot = slotMsOf(rule.windowMs);
    return (at: number) => {
      const idx = Math.floor(at / slot);
      return Math.max(...this.events.filter((e) => Math.floor(e.at / slot) === idx).map((e) => e.at), at) + rule.windowMs;
    };
  }
  /** What the key's expiry should be now: when its newest counted event leaves the window. */
  ttl(now: number, rule: WindowRule): number {
    const release = this.releaseOf(rule);
    const newest = Math.max(...this.events.filter((e) => release(e.at) > now).map((e) => e.at));
    return Math.max(1, release(newest) - now);
  }
  decide(now: number, rule: WindowRule, weight: number, consume: boolean): WindowDecision {
    const release = this.releaseOf(rule);
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

const prefix = `pictor-prop:${crypto.randomUUID()}:`;
const limiterRedis = useLimiterRedis(prefix);

const step = fc.oneof(
  fc.record({ op: fc.constant('consume' as const), weight: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('peek' as const), weight: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3000 })) }),
);

test('memory, Redis and the reference model agree on every decision', async () => {
  let run = 0;
  let expiries = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({ max: fc.integer({ min: 1, max: 10 }), windowMs: fc.constantFrom(20, 100, 1000, 2500, 60_000) }),
      fc.array(step, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 10_000 }),
      async (rule, steps, offset) => {
        let now = 1_800_000_000_000 + offset;
        const clock = { now: () => now };
        const memory = createMemoryLimiter({ clock });
        const shared = createRedisLimiter(limiterRedis.redis, { clock, prefix });
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
          // The expiry the script set (-1: it left the key's as it was) is when the model's newest event leaves.
          const ttl = await limiterRedis.redis.getdel(`${prefix}rl:{p:${key}}:ttl`);
          expect(ttl).not.toBeNull();
          if (Number(ttl) >= 0) {
            expect(Number(ttl)).toBe(ref.ttl(now, rule));
            expiries++;
          }
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
  expect(expiries).toBeGreaterThan(0);
}, 60_000);
