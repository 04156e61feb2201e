/**
 * Local slices of a shared budget, in front of the Redis limiter, for the high-volume IP buckets
 * (`public`, `transform`). Instead of one script call per request, an instance reserves a slice
 * of `sliceOf(max)` units in one call (counted in Redis like any other weight), spends it
 * locally, and reserves again when it is used up. Buckets whose slice would be one unit, and
 * every bucket not listed (login, register, uploads, api), stay exact: each request is one call.
 *
 * Over-admission bound: in any window of `windowMs`, a key is admitted at most
 * `max + instances × sliceOf(max)` units. The units spent in a window were reserved either in it
 * (at most `max`, the shared window's guarantee) or before it; of the latter, only the slice an
 * instance held when the window began can still be unspent (an instance reserves its next slice
 * only once the last is used up), so at most one slice per instance. A slice is kept at most one
 * window, so a client far below the limit never holds counted units longer than that.
 *
 * Under-admission is bounded alike: a client is refused only once at least
 * `max − 2 × instances × sliceOf(max)` were admitted over the window (plus one slot): what Redis
 * counts was spent, or is in an instance's live slice, or in one that lapsed unspent within the
 * last slot. Near the limit a slice no longer fits and requests fall back to exact one-unit
 * calls, so a single instance admits exactly `max`.
 *
 * Headers: `remaining` is the shared remaining when the slice was reserved plus what is left of
 * it; `resetAt` is the reservation's.
 */
import type { Clock } from '../../deps';
import type { ConsumeRequest, RateLimiter, WindowDecision } from './types';

/** A slice is this fraction of the limit (over-admission ≤ 1/64 ≈ 1.6 % of `max` per instance). */
const SLICE_DIVISOR = 64;

/** Keys holding a slice at once (memory bound: a flood of distinct client IPs evicts the oldest). */
const MAX_SLICES = 10_000;

/** The slice size for a limit; 1 means exact (no slicing). */
export const sliceOf = (max: number): number => Math.max(1, Math.floor(max / SLICE_DIVISOR));

interface Slice {
  /** Units reserved and not yet spent. */
  left: number;
  /** The shared remaining right after the reservation. */
  sharedRemaining: number;
  resetAt: number;
  /** Spendable until then (one window after the reservation). */
  until: number;
}

export interface SliceOptions {
  clock: Clock;
  /** Buckets that may count in slices. */
  buckets: readonly string[];
}

export function sliceConsumes(inner: RateLimiter, opts: SliceOptions): RateLimiter {
  const sliced = new Set(opts.buckets);
  const slices = new Map<string, Slice>();
  /** Reservations in flight: concurrent requests of one key wait for it instead of each reserving. */
  const reserving = new Map<string, Promise<boolean>>();
  const idOf = (req: ConsumeRequest) => `${req.bucket}\u0000${req.key}\u0000${req.rule.max}\u0000${req.rule.windowMs}`;

  /** Spends from the key's slice when it has `weight` left; null when it must reserve. */
  function spend(id: string, req: ConsumeRequest, weight: number): WindowDecision | null {
    const s = slices.get(id);
    if (!s) return null;
    if (s.until <= opts.clock.now()) {
      slices.delete(id);
      return null;
    }
    if (s.left < weight) return null;
    s.left -= weight;
    if (s.left === 0) slices.delete(id);
    return { allowed: true, limit: req.rule.max, remaining: Math.min(req.rule.max, s.sharedRemaining + s.left), resetAt: s.resetAt, retryAfterMs: 0 };
  }

  /** Reserves a slice; false when it does not fit (the caller then decides exactly). */
  async function reserve(id: string, req: ConsumeRequest, size: number): Promise<boolean> {
    const d = await inner.consume({ ...req, weight: size });
    if (!d.allowed) return false;
    // Bounded: the oldest slice gives way (its unspent units are lost, which only under-admits).
    if (slices.size >= MAX_SLICES) slices.delete(slices.keys().next().value!);
    slices.set(id, { left: size, sharedRemaining: d.remaining, resetAt: d.resetAt, until: opts.clock.now() + req.rule.windowMs });
    return true;
  }

  async function consumeSliced(req: ConsumeRequest, size: number): Promise<WindowDecision> {
    const id = idOf(req);
    const weight = req.weight ?? 1;
    // A few rounds: concurrent requests of the key may use up a fresh slice before this one gets to it.
    for (let round = 0; round < 4; round++) {
      const spent = spend(id, req, weight);
      if (spent) return spent;
      let pending = reserving.get(id);
      if (!pending) {
        pending = reserve(id, req, size).finally(() => reserving.delete(id));
        reserving.set(id, pending);
      }
      if (!(await pending)) break;
    }
    // No slice fits (the client is near its limit): exact, one call.
    return spend(id, req, weight) ?? inner.consume(req);
  }

  const consume = (req: ConsumeRequest): Promise<WindowDecision> => {
    const size = sliced.has(req.bucket) ? sliceOf(req.rule.max) : 1;
    return size > 1 && (req.weight ?? 1) < size ? consumeSliced(req, size) : inner.consume(req);
  };

  return {
    get kind() {
      return inner.kind;
    },
    consume,
    consumeMany: (reqs) => (reqs.some((r) => sliced.has(r.bucket)) ? Promise.all(reqs.map(consume)) : inner.consumeMany(reqs)),
    peek: (req) => inner.peek(req),
    acquire: (bucket, key, max, ttlMs) => inner.acquire(bucket, key, max, ttlMs),
    renew: (bucket, key, leaseId, ttlMs) => inner.renew(bucket, key, leaseId, ttlMs),
    release: (bucket, key, leaseId) => inner.release(bucket, key, leaseId),
    isDegraded: () => inner.isDegraded(),
    close: () => inner.close(),
  };
}
