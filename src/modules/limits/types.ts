/**
 * The limiter contract shared by the Redis and the in-process implementations (API.md §7).
 * Both implement the same quantised sliding window (see `window.ts` for the algorithm and its
 * error bound) and the same expiring leases, and pass one contract suite (`contract.test.ts`).
 * All times are milliseconds since the epoch; the HTTP layer converts to seconds.
 */

/** A window rule: at most `max` units of weight within any `windowMs`. */
export interface WindowRule {
  max: number;
  windowMs: number;
}

/** The outcome of a check (and, when allowed, consumption) against a window. */
export interface WindowDecision {
  allowed: boolean;
  limit: number;
  /** Weight still available after this decision (never negative). */
  remaining: number;
  /** Epoch ms when the oldest counted weight leaves the window (now when nothing is counted). */
  resetAt: number;
  /** Ms until a request of the same weight would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

/** The outcome of asking for a concurrency slot. */
export interface LeaseDecision {
  allowed: boolean;
  limit: number;
  /** Slots still free after this decision. */
  remaining: number;
  /** Epoch ms when the soonest-expiring held lease lapses (now when none is held). */
  resetAt: number;
  /** Set when allowed: pass it to `renew`/`release`. */
  leaseId: string | null;
}

/** One check-and-consume call, for batching several buckets into one round trip. */
export interface ConsumeRequest {
  bucket: string;
  key: string;
  rule: WindowRule;
  /** Units to consume (1 per request; bytes for `upload_bytes`). Default 1. */
  weight?: number;
}

export interface RateLimiter {
  /** Implementation name, for logs and tests: `redis`, `memory`, or `redis+memory` while failing over. */
  readonly kind: string;
  /** Atomically checks that `weight` fits in the window and, if so, counts it. Denials consume nothing. */
  consume(req: ConsumeRequest): Promise<WindowDecision>;
  /**
   * The decision of `consume`, when it can be made without waiting (in-process state: the
   * in-process window, or a local slice); undefined when it needs a round trip. An allowed
   * answer counted the request; a refused one counted nothing.
   */
  consumeNow?(req: ConsumeRequest): WindowDecision | undefined;
  /** Several decisions in one round trip (each independent; a denial does not roll back others). */
  consumeMany(reqs: ConsumeRequest[]): Promise<WindowDecision[]>;
  /** The decision a request of `weight` would get, without consuming anything. */
  peek(req: ConsumeRequest): Promise<WindowDecision>;
  /** Takes one of `max` concurrency slots for `ttlMs` (renewable); expired leases free themselves. */
  acquire(bucket: string, key: string, max: number, ttlMs: number): Promise<LeaseDecision>;
  /** Extends a held lease; false when it had already expired (or was released). */
  renew(bucket: string, key: string, leaseId: string, ttlMs: number): Promise<boolean>;
  /** Frees a lease (idempotent). */
  release(bucket: string, key: string, leaseId: string): Promise<void>;
  /** True while decisions are not shared across instances although they should be (Redis unreachable). */
  isDegraded(): boolean;
  close(): Promise<void>;
}

/**
 * How many slots a window is divided into. Each slot keeps one counter, so a key costs at most
 * SLOTS + 1 counters whatever the traffic; weight is held at most `windowMs / SLOTS` too long.
 */
export const SLOTS = 60;

/** Slot length for a window: ≥ 1 ms, so windows up to 60 ms are exact to the millisecond. */
export const slotMsOf = (windowMs: number): number => Math.max(1, Math.ceil(windowMs / SLOTS));
