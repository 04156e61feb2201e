/**
 * The limits as plain functions over keys. `checkLimit` checks and counts one bucket and throws
 * the 429 of API.md §7 when over; `checkLimits` does several buckets in one round trip;
 * `checkAccountLimits` skips admins and promoted accounts; they return the decisions, whose
 * `X-RateLimit-*` headers (`rateLimitHeaders`) the HTTP side sets (plugin.ts `enforce*`).
 * `acquireUploadSlot` (lease.ts) takes a renewing concurrency lease. `DISABLE_RATE_LIMIT=true`
 * makes all of them no-ops.
 */
import type Redis from 'ioredis';
import type { Config, RateBucket } from '../../config';
import type { AppDeps, Clock } from '../../deps';
import { rateLimited } from '../../errors';
import type { Logger } from '../../logger';
import { normalizeEmail } from '../users/model';
import { coalesceConsumes } from './coalesce';
import { createFailoverLimiter } from './failover';
import { createMemoryLimiter } from './memory';
import { createRedisLimiter } from './redis';
import { sliceConsumes } from './slices';
import type { RateLimiter, WindowDecision } from './types';

/** Buckets counted over a time window (all but `upload_concurrency`). */
export type WindowBucket = Exclude<RateBucket, 'upload_concurrency'>;

/**
 * The high-volume buckets (per client IP: `public`, `transform`; per account: `api`): approximate
 * within slices.ts's bound when their limit is 128 or more; all others exact.
 */
export const SLICED_BUCKETS: readonly WindowBucket[] = ['public', 'transform', 'api'];

/** Builds `deps.limiter`: Redis with in-process fallback when Redis is configured, else in process. */
export function createLimiter(config: Config, redis: Redis | null, clock: Clock, log: Logger): RateLimiter {
  const local = createMemoryLimiter({ clock });
  if (!redis) return local;
  // Same-IP requests of one event-loop turn share one script call (coalesce.ts). The slices sit in
  // front of the failover, so that it only ever sees calls that reach Redis (a request answered
  // from a slice says nothing about Redis being back); during an outage they are reserved in process.
  const failover = createFailoverLimiter(redis, coalesceConsumes(createRedisLimiter(redis, { clock })), local, log);
  return Object.assign(sliceConsumes(failover, { clock, buckets: SLICED_BUCKETS }), { fallbackCount: () => failover.fallbackCount() });
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** The `X-RateLimit-*` headers of a decision (lower-case names). */
export function rateLimitHeaders(d: { limit: number; remaining: number; resetAt: number }): Record<string, string> {
  return {
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': String(d.remaining),
    'x-ratelimit-reset': String(seconds(d.resetAt)),
  };
}

function deny(bucket: string, d: WindowDecision, windowMs: number, now: number): never {
  // The window (window.ts) never asks for more than the window itself; the cap still holds when
  // instances' clocks disagree (a slot's latest request stamped by a clock ahead of ours).
  const windowSeconds = seconds(windowMs);
  const retryAfter = Math.min(windowSeconds, Math.max(1, seconds(d.retryAfterMs)));
  throw rateLimited(
    { bucket, limit: d.limit, remaining: d.remaining, retry_after: retryAfter, window_seconds: windowSeconds },
    rateLimitHeaders({ ...d, resetAt: Math.max(d.resetAt, now + d.retryAfterMs) }),
  );
}

export interface LimitCheck {
  bucket: WindowBucket;
  key: string;
  /** Units to count (bytes for `upload_bytes`); default 1. */
  weight?: number;
}

/**
 * Checks and counts several buckets in one round trip; throws 429 for the first one denied.
 * Returns the decisions (empty when limits are disabled).
 */
export async function checkLimits(deps: Pick<AppDeps, 'config' | 'limiter' | 'clock'>, checks: LimitCheck[]): Promise<WindowDecision[]> {
  if (deps.config.disableRateLimit || checks.length === 0) return [];
  const reqs = checks.map((c) => ({ bucket: c.bucket, key: c.key, rule: deps.config.rateLimits[c.bucket], weight: c.weight ?? 1 }));
  const decisions = reqs.length === 1 ? [await deps.limiter.consume(reqs[0]!)] : await deps.limiter.consumeMany(reqs);
  decisions.forEach((d, i) => {
    if (!d.allowed) deny(reqs[i]!.bucket, d, reqs[i]!.rule.windowMs, deps.clock.now());
  });
  return decisions;
}

/** Checks and counts one bucket; throws 429 `RATE_LIMITED` when over. */
export async function checkLimit(
  deps: Pick<AppDeps, 'config' | 'limiter' | 'clock'>, bucket: WindowBucket, key: string, weight = 1,
): Promise<WindowDecision[]> {
  return checkLimits(deps, [{ bucket, key, weight }]);
}

/** The part of a principal the account buckets need. */
export interface Account {
  userId: string;
  role: string;
  isPromoted: boolean;
}

/** The buckets counted per account, which admins and promoted accounts are exempt from (API.md §7). */
export const ACCOUNT_BUCKETS: readonly RateBucket[] = ['api', 'upload_count', 'upload_bytes', 'upload_concurrency'];

/** Admins and promoted accounts are exempt from account buckets (API.md §7). */
export const isExempt = (a: Account) => a.role === 'admin' || a.isPromoted;

/** Checks account-keyed buckets (`api`, `upload_count`, `upload_bytes`) unless the account is exempt. */
export async function checkAccountLimits(deps: AppDeps, account: Account, checks: Omit<LimitCheck, 'key'>[]): Promise<WindowDecision[]> {
  if (isExempt(account)) return [];
  return checkLimits(deps, checks.map((c) => ({ ...c, key: account.userId })));
}

/**
 * Whether `weight` would fit an account bucket now, without counting it; throws 429 when it
 * would not (an upload's declared length: refused before a byte is read, charged as it arrives).
 */
export async function peekAccountLimit(deps: AppDeps, account: Account, bucket: WindowBucket, weight: number): Promise<WindowDecision[]> {
  if (deps.config.disableRateLimit || isExempt(account)) return [];
  const rule = deps.config.rateLimits[bucket];
  const d = await deps.limiter.peek({ bucket, key: account.userId, rule, weight });
  if (!d.allowed) deny(bucket, d, rule.windowMs, deps.clock.now());
  return [d];
}

/**
 * `login` is keyed by IP and email together, so one IP cannot lock out an account and vice versa;
 * the email as accounts are found by it (NFC too: `josé` typed with a combining accent had a bucket of its own).
 */
export const loginKey = (ip: string, email: string) => `${ip}|${normalizeEmail(email)}`;

/**
 * The `api` bucket: every authenticated `/api` call, per account (called by the auth guard with
 * the routed path, the one the router matched, so the two can never disagree).
 */
export async function checkApiLimit(deps: AppDeps, path: string, account: Account): Promise<WindowDecision[]> {
  if (deps.config.disableRateLimit || isExempt(account)) return [];
  return path === '/api' || path.startsWith('/api/') ? checkLimit(deps, 'api', account.userId) : [];
}
