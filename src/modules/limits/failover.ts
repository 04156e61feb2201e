/**
 * Redis with an in-process fallback. A decision goes to Redis while it is connected; when a
 * command fails (connection lost, or no answer within the client's `commandTimeout`), the same
 * decision is taken by the in-process limiter within the same request, and Redis is skipped
 * until ioredis reports `ready` again (or a short cool-down passes), so an outage costs no
 * request more than one failed command. Nothing is ever unlimited.
 */
import type Redis from 'ioredis';
import type { Logger } from '../../logger';
import type { ConsumeRequest, LeaseDecision, RateLimiter, WindowDecision } from './types';

/** After a failure, how long to skip Redis before trying again (unless it reconnects first). */
const COOL_DOWN_MS = 1000;

export interface FailoverLimiter extends RateLimiter {
  /** Decisions taken in process because Redis failed or was unreachable, since start. */
  fallbackCount(): number;
}

/** Lease ids say which limiter issued them, so renew/release reach the right one. */
const R = 'r.';
const M = 'm.';

export function createFailoverLimiter(redis: Redis, shared: RateLimiter, local: RateLimiter, log: Logger): FailoverLimiter {
  let failedAt = 0;
  let fallbacks = 0;
  let outageFallbacks = 0;
  let down = false;

  const markDown = (err: unknown) => {
    failedAt = Date.now();
    if (!down) {
      down = true;
      outageFallbacks = 0;
      log.warn({ err: (err as Error)?.message ?? String(err) }, 'rate limiter: redis unavailable, limiting in process');
    }
  };
  const markUp = () => {
    if (!down) return;
    down = false;
    failedAt = 0;
    log.info({ fallbacks: outageFallbacks }, 'rate limiter: redis is back, limits are shared again');
  };
  redis.on('ready', markUp);

  const useShared = () => redis.status === 'ready' && Date.now() - failedAt >= COOL_DOWN_MS;

  async function run<T>(remote: () => Promise<T>, fallback: () => Promise<T>, count = 1): Promise<T> {
    if (useShared()) {
      try {
        const result = await remote();
        markUp();
        return result;
      } catch (err) {
        markDown(err);
      }
    } else if (!down) {
      markDown(new Error(`redis status ${redis.status}`));
    }
    fallbacks += count;
    outageFallbacks += count;
    return fallback();
  }

  const tag = (d: LeaseDecision, p: string): LeaseDecision => ({ ...d, leaseId: d.leaseId && p + d.leaseId });

  return {
    get kind() {
      return down ? 'redis+memory' : 'redis';
    },
    consume: (req: ConsumeRequest): Promise<WindowDecision> => run(() => shared.consume(req), () => local.consume(req)),
    consumeMany: (reqs) => run(() => shared.consumeMany(reqs), () => local.consumeMany(reqs), reqs.length),
    peek: (req) => run(() => shared.peek(req), () => local.peek(req)),
    acquire: (bucket, key, max, ttlMs) =>
      run(
        async () => tag(await shared.acquire(bucket, key, max, ttlMs), R),
        async () => tag(await local.acquire(bucket, key, max, ttlMs), M),
      ),
    renew: async (bucket, key, leaseId, ttlMs) => {
      if (leaseId.startsWith(M)) return local.renew(bucket, key, leaseId.slice(M.length), ttlMs);
      // A lease held in Redis cannot be renewed during an outage; let the holder carry on.
      try {
        return useShared() ? await shared.renew(bucket, key, leaseId.slice(R.length), ttlMs) : true;
      } catch (err) {
        markDown(err);
        return true;
      }
    },
    release: async (bucket, key, leaseId) => {
      if (leaseId.startsWith(M)) return local.release(bucket, key, leaseId.slice(M.length));
      // Unreleased during an outage, a Redis lease still frees itself when its TTL lapses.
      try {
        if (useShared()) await shared.release(bucket, key, leaseId.slice(R.length));
      } catch (err) {
        markDown(err);
      }
    },
    isDegraded: () => down || redis.status !== 'ready',
    fallbackCount: () => fallbacks,
    close: async () => {
      redis.off('ready', markUp);
      await Promise.all([shared.close(), local.close()]);
    },
  };
}
