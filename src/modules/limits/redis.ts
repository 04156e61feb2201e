/**
 * The shared limiter: every decision is one EVALSHA of a script in `lua.ts`, so it is atomic
 * across instances. Several buckets of one request are issued together and leave in one write
 * thanks to ioredis auto-pipelining (one round trip). Time comes from the injected clock (hosts
 * are expected to run NTP; skew of a few ms only shifts slot boundaries).
 */
import type Redis from 'ioredis';
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../../deps';
import { ACQUIRE_LUA, RENEW_LUA, WINDOW_LUA } from './lua';
import { slotMsOf, type ConsumeRequest, type LeaseDecision, type RateLimiter, type WindowDecision } from './types';

type Reply = [number, string, string, string];

interface LimiterCommands {
  pictorRlWindow(key: string, now: number, windowMs: number, max: number, weight: number, slotMs: number, consume: 0 | 1): Promise<Reply>;
  pictorRlAcquire(key: string, now: number, max: number, ttlMs: number, leaseId: string): Promise<[number, number, string]>;
  pictorRlRenew(key: string, now: number, ttlMs: number, leaseId: string): Promise<number>;
}

export interface RedisLimiterOptions {
  clock: Clock;
  /** Key prefix (tests use a unique one). Default `pictor:`. */
  prefix?: string;
}

/** Long identities (e.g. an email) are hashed so keys stay short; `{…}` is the Cluster hash tag. */
function redisKey(prefix: string, kind: string, bucket: string, key: string): string {
  const id = key.length > 100 ? createHash('sha256').update(key).digest('base64url') : key.replace(/[{}]/g, '_');
  return `${prefix}${kind}:{${bucket}:${id}}`;
}

/** Registers the scripts on `redis` (once per client) and returns the limiter. */
export function createRedisLimiter(redis: Redis, opts: RedisLimiterOptions): RateLimiter {
  const prefix = opts.prefix ?? 'pictor:';
  const { clock } = opts;
  const r = redis as Redis & LimiterCommands;
  if (typeof r.pictorRlWindow !== 'function') {
    redis.defineCommand('pictorRlWindow', { lua: WINDOW_LUA, numberOfKeys: 1 });
    redis.defineCommand('pictorRlAcquire', { lua: ACQUIRE_LUA, numberOfKeys: 1 });
    redis.defineCommand('pictorRlRenew', { lua: RENEW_LUA, numberOfKeys: 1 });
  }

  async function decide(req: ConsumeRequest, consume: boolean): Promise<WindowDecision> {
    const { windowMs, max } = req.rule;
    const now = clock.now();
    const key = redisKey(prefix, 'rl', req.bucket, req.key);
    const [allowed, remaining, resetAt, retry] = await r.pictorRlWindow(key, now, windowMs, max, req.weight ?? 1, slotMsOf(windowMs), consume ? 1 : 0);
    return { allowed: allowed === 1, limit: max, remaining: Number(remaining), resetAt: Number(resetAt), retryAfterMs: Number(retry) };
  }

  return {
    kind: 'redis',
    consume: (req) => decide(req, true),
    // Issued in the same tick, these leave as one pipeline (enableAutoPipelining).
    consumeMany: (reqs) => Promise.all(reqs.map((req) => decide(req, true))),
    peek: (req) => decide(req, false),
    acquire: async (bucket, key, max, ttlMs): Promise<LeaseDecision> => {
      const leaseId = randomUUID();
      const now = clock.now();
      const [allowed, held, soonest] = await r.pictorRlAcquire(redisKey(prefix, 'lease', bucket, key), now, max, ttlMs, leaseId);
      return { allowed: allowed === 1, limit: max, remaining: Math.max(0, max - held), resetAt: Number(soonest), leaseId: allowed === 1 ? leaseId : null };
    },
    renew: async (bucket, key, leaseId, ttlMs) =>
      (await r.pictorRlRenew(redisKey(prefix, 'lease', bucket, key), clock.now(), ttlMs, leaseId)) === 1,
    release: async (bucket, key, leaseId) => {
      await redis.zrem(redisKey(prefix, 'lease', bucket, key), leaseId);
    },
    isDegraded: () => false,
    close: async () => {},
  };
}
