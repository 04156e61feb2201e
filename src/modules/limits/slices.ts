/**
 * Local slices of a shared budget, for the high-volume buckets: per client IP `public` (and
 * `transform` when its limit is large enough), per account `api`. Instead of one script call per
 * request, a process reserves a slice of `sliceOf(max)` units in one call (counted in Redis like
 * any other weight, at the time of the reservation), spends it in memory one request at a time,
 * and reserves again once it is used up.
 * Buckets whose slice would be one unit (limits under 128), requests of another weight, and every
 * bucket not listed (login, register, password reset, sensitive, uploads) stay exact: each
 * request is one call.
 *
 * Over-admission bound: in any window of `windowMs`, a key is admitted at most
 * `max + processes × sliceOf(max)` units. The units spent in a window were reserved either in it
 * (at most `max`, the shared window's guarantee) or before it; of the latter, only the slice a
 * process held when the window began can still be unspent (a process reserves its next slice only
 * once the last is used up or lapsed), so at most one slice per process. Even one process is
 * therefore exact only from an idle start: units reserved late in one window and spent early in
 * the next count for the first.
 *
 * Under-admission bound: a client is refused only once at least
 * `max − 2 × processes × sliceOf(max)` were admitted over the window plus one slot: what Redis
 * counts was spent, or sits in a process's live slice, or in one that lapsed unspent within the
 * last slot. Slices are never evicted for room (that would strand counted units): when
 * `MAX_KEYS` keys hold live slices, new keys are decided exactly until some lapse.
 *
 * Near the limit a slice no longer fits: the key is then decided exactly for one slot (one call
 * per request, as without slices) before a reservation is tried again.
 *
 * Headers: `remaining` is the shared remaining when the slice was reserved plus what is left of
 * it; `resetAt` is the reservation's, or once that has passed, when the slice's units leave.
 */
import type { Clock } from '../../deps';
import { slotMsOf, type ConsumeRequest, type RateLimiter, type WindowDecision } from './types';

/** A slice is this fraction of the limit (over-admission ≤ 1/64 ≈ 1.6 % of `max` per process). */
const SLICE_DIVISOR = 64;

/** Keys holding a slice (or an exact-for-a-slot mark) at once: the memory bound under a flood of distinct client IPs or accounts. */
const MAX_KEYS = 10_000;

/** The slice size for a limit; 1 means exact (no slicing). */
export const sliceOf = (max: number): number => Math.max(1, Math.floor(max / SLICE_DIVISOR));

interface Slice {
  /** Units reserved and not yet spent; 0 marks a key decided exactly until `until` (its last reservation did not fit). */
  left: number;
  /** The shared remaining right after the reservation. */
  sharedRemaining: number;
  resetAt: number;
  /** Spendable until then: one window after the reservation was asked for. */
  until: number;
}

export interface SliceOptions {
  clock: Clock;
  /** Buckets that may count in slices. */
  buckets: readonly string[];
  /** Tests: a smaller key bound. */
  maxKeys?: number;
}

export function sliceConsumes(inner: RateLimiter, opts: SliceOptions): RateLimiter {
  const { clock } = opts;
  const maxKeys = opts.maxKeys ?? MAX_KEYS;
  const sliced = new Set(opts.buckets);
  const slices = new Map<string, Slice>();
  /** Reservations in flight: concurrent requests of one key wait for it instead of each reserving. */
  const reserving = new Map<string, Promise<void>>();
  let sweptAt = -Infinity;
  const idOf = (req: ConsumeRequest) => `${req.bucket}\u0000${req.key}\u0000${req.rule.max}\u0000${req.rule.windowMs}`;

  /** A unit from the key's slice, 'exact' while the key is decided exactly, or 'reserve'. */
  function spend(id: string, req: ConsumeRequest): WindowDecision | 'exact' | 'reserve' {
    const s = slices.get(id);
    if (!s) return 'reserve';
    const now = clock.now();
    if (s.until <= now) {
      slices.delete(id);
      return 'reserve';
    }
    if (s.left === 0) return 'exact';
    s.left--;
    if (s.left === 0) slices.delete(id);
    return { allowed: true, limit: req.rule.max, remaining: s.sharedRemaining + s.left, resetAt: s.resetAt > now ? s.resetAt : s.until, retryAfterMs: 0 };
  }

  /** Whether a new key fits; when full, lapsed entries are swept (at most once a second: a sweep walks them all). */
  function room(now: number): boolean {
    if (slices.size < maxKeys) return true;
    if (now - sweptAt >= 1000) {
      sweptAt = now;
      for (const [id, s] of slices) if (s.until <= now) slices.delete(id);
    }
    return slices.size < maxKeys;
  }

  async function reserve(id: string, req: ConsumeRequest, size: number): Promise<void> {
    const at = clock.now();
    if (!room(at)) return;
    const d = await inner.consume({ ...req, weight: size });
    slices.set(id, d.allowed
      ? { left: size, sharedRemaining: d.remaining, resetAt: d.resetAt, until: at + req.rule.windowMs }
      : { left: 0, sharedRemaining: 0, resetAt: d.resetAt, until: at + slotMsOf(req.rule.windowMs) });
  }

  async function consumeSliced(req: ConsumeRequest, size: number): Promise<WindowDecision> {
    const id = idOf(req);
    const first = spend(id, req);
    if (first === 'exact') return inner.consume(req);
    if (first !== 'reserve') return first;
    let pending = reserving.get(id);
    if (!pending) {
      pending = reserve(id, req, size).finally(() => reserving.delete(id));
      reserving.set(id, pending);
    }
    await pending;
    // One reservation per wait: a burst larger than the slice goes on exactly (coalesced into one call).
    const then = spend(id, req);
    return typeof then === 'object' ? then : inner.consume(req);
  }

  const consume = (req: ConsumeRequest): Promise<WindowDecision> => {
    const size = sliced.has(req.bucket) ? sliceOf(req.rule.max) : 1;
    return size > 1 && (req.weight ?? 1) === 1 ? consumeSliced(req, size) : inner.consume(req);
  };

  return {
    get kind() {
      return inner.kind;
    },
    consume,
    consumeNow: (req) => {
      const size = sliced.has(req.bucket) ? sliceOf(req.rule.max) : 1;
      if (size === 1 || (req.weight ?? 1) !== 1) return inner.consumeNow?.(req);
      const d = spend(idOf(req), req);
      return typeof d === 'object' ? d : undefined;
    },
    consumeMany: (reqs) => (reqs.some((r) => sliced.has(r.bucket)) ? Promise.all(reqs.map(consume)) : inner.consumeMany(reqs)),
    peek: (req) => inner.peek(req),
    acquire: (bucket, key, max, ttlMs) => inner.acquire(bucket, key, max, ttlMs),
    renew: (bucket, key, leaseId, ttlMs) => inner.renew(bucket, key, leaseId, ttlMs),
    release: (bucket, key, leaseId) => inner.release(bucket, key, leaseId),
    isDegraded: () => inner.isDegraded(),
    close: () => inner.close(),
  };
}
