/**
 * Coalescing of concurrent `consume` calls for the same bucket and key, in front of the Redis
 * limiter: requests from one client IP that arrive in the same event-loop turn become one
 * script call with their summed weight, instead of one each. Behind a proxy (or under a
 * benchmark) most requests share one IP, so this turns N EVALSHAs into one, and N ioredis
 * encodes/parses into one.
 *
 * Correctness is unchanged: the batch is counted atomically and only when its whole weight fits,
 * so the limit is never exceeded. Each caller gets the `remaining` it would have seen had the
 * calls run one after another in arrival order (the batch's remaining plus the weight counted
 * after it). When the batch does not fit (a client at its limit), each call is retried on its
 * own, so as many as still fit are allowed, exactly as without coalescing. A failure of the
 * batch call is passed to every caller (the failover limiter then falls back for each).
 *
 * The cost: a call waits for the end of the current event-loop turn (`setImmediate`) before it
 * leaves, which is microseconds against a Redis round trip.
 */
import type { ConsumeRequest, RateLimiter, WindowDecision } from './types';

interface Waiter {
  req: ConsumeRequest;
  weight: number;
  resolve(d: WindowDecision): void;
  reject(err: unknown): void;
}

interface Batch {
  first: ConsumeRequest;
  weight: number;
  waiters: Waiter[];
}

/** Wraps `inner` so that concurrent `consume` calls of one (bucket, key, rule) share a call. */
export function coalesceConsumes(inner: RateLimiter): RateLimiter {
  let pending = new Map<string, Batch>();
  let scheduled = false;

  async function settle(batch: Batch): Promise<void> {
    const { waiters } = batch;
    if (waiters.length === 1) {
      const w = waiters[0]!;
      inner.consume(w.req).then(w.resolve, w.reject);
      return;
    }
    let d: WindowDecision;
    try {
      d = await inner.consume({ ...batch.first, weight: batch.weight });
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    if (!d.allowed) {
      // Not all of them fit: decide one by one (in arrival order, still one pipeline).
      for (const w of waiters) inner.consume(w.req).then(w.resolve, w.reject);
      return;
    }
    let after = batch.weight;
    for (const w of waiters) {
      after -= w.weight;
      w.resolve({ ...d, remaining: d.remaining + after });
    }
  }

  function flush(): void {
    scheduled = false;
    const batches = pending;
    pending = new Map();
    for (const b of batches.values()) void settle(b);
  }

  return {
    get kind() {
      return inner.kind;
    },
    consume(req) {
      const weight = req.weight ?? 1;
      const id = `${req.bucket}\u0000${req.key}\u0000${req.rule.max}\u0000${req.rule.windowMs}`;
      return new Promise<WindowDecision>((resolve, reject) => {
        const b = pending.get(id);
        if (b) {
          b.weight += weight;
          b.waiters.push({ req, weight, resolve, reject });
        } else {
          pending.set(id, { first: req, weight, waiters: [{ req, weight, resolve, reject }] });
        }
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    consumeMany: (reqs) => inner.consumeMany(reqs),
    peek: (req) => inner.peek(req),
    acquire: (bucket, key, max, ttlMs) => inner.acquire(bucket, key, max, ttlMs),
    renew: (bucket, key, leaseId, ttlMs) => inner.renew(bucket, key, leaseId, ttlMs),
    release: (bucket, key, leaseId) => inner.release(bucket, key, leaseId),
    isDegraded: () => inner.isDegraded(),
    close: () => inner.close(),
  };
}
