/**
 * The in-process limiter: the algorithm of `window.ts` over a bounded LRU of keys. Used alone in
 * embedded mode (no `REDIS_URL`) and as the fallback while Redis is unreachable.
 *
 * Memory is bounded twice: each key holds ≤ 61 slot counters, and at most `maxKeys` keys are
 * kept; a key is evicted once its newest weight has left the window (TTL), or, under a flood of
 * distinct keys, least-recently-used first (that key's count is forgotten — the price of a bound).
 */
import { countBoundedLru } from '../../lib/lru';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../deps';
import { LeaseSet, SlidingWindow } from './window';
import { type ConsumeRequest, type LeaseDecision, type RateLimiter, type WindowDecision } from './types';

export interface MemoryLimiterOptions {
  clock: Clock;
  /** Most keys kept (windows and lease sets each). Default 100 000. */
  maxKeys?: number;
}

const keyOf = (bucket: string, key: string) => `${bucket}\u0000${key}`;

export function createMemoryLimiter(opts: MemoryLimiterOptions): RateLimiter {
  const { clock } = opts;
  const max = opts.maxKeys ?? 100_000;
  // TTLs are checked against the injected clock so tests can move time.
  const perf = { now: () => clock.now() };
  const windows = countBoundedLru<string, SlidingWindow>(max);
  const leases = countBoundedLru<string, LeaseSet>(max, { ttlAutopurge: false, ttlResolution: 0, perf });

  function decide(req: ConsumeRequest, consume: boolean): WindowDecision {
    const id = keyOf(req.bucket, req.key);
    const now = clock.now();
    let w = windows.get(id);
    const fresh = !w;
    w ??= new SlidingWindow();
    const decision = w.decide(now, req.rule, req.weight ?? 1, consume);
    if (w.isEmpty()) {
      if (!fresh) windows.delete(id);
    } else if (fresh) {
      // Updated in place from now on: the window drops its own old weight (window.ts), and a key
      // whose weight has all left is deleted at its next decision or evicted by the LRU bound.
      windows.set(id, w);
    }
    return decision;
  }

  function leaseDecision(set: LeaseSet, now: number, maxSlots: number, leaseId: string | null): LeaseDecision {
    return { allowed: leaseId !== null, limit: maxSlots, remaining: Math.max(0, maxSlots - set.size), resetAt: set.soonest(now), leaseId };
  }

  return {
    kind: 'memory',
    consume: async (req) => decide(req, true),
    consumeNow: (req) => decide(req, true),
    consumeMany: async (reqs) => reqs.map((r) => decide(r, true)),
    peek: async (req) => decide(req, false),
    acquire: async (bucket, key, maxSlots, ttlMs) => {
      const id = keyOf(bucket, key);
      const now = clock.now();
      const set = leases.get(id) ?? new LeaseSet();
      const leaseId = randomUUID();
      const ok = set.acquire(now, maxSlots, ttlMs, leaseId);
      if (set.size > 0) leases.set(id, set, { ttl: ttlMs + 1 });
      return leaseDecision(set, now, maxSlots, ok ? leaseId : null);
    },
    renew: async (bucket, key, leaseId, ttlMs) => {
      const id = keyOf(bucket, key);
      const set = leases.get(id);
      if (!set?.renew(clock.now(), leaseId, ttlMs)) return false;
      leases.set(id, set, { ttl: ttlMs + 1 });
      return true;
    },
    release: async (bucket, key, leaseId) => {
      const id = keyOf(bucket, key);
      const set = leases.get(id);
      set?.release(leaseId);
      if (set && set.prune(clock.now()) === 0) leases.delete(id);
    },
    isDegraded: () => false,
    close: async () => {
      windows.clear();
      leases.clear();
    },
  };
}
