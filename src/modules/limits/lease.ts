/**
 * `upload_concurrency`: one lease per upload in progress, per account. A lease lives
 * `LEASE_TTL_MS` and is renewed every third of that while the upload runs, so a crashed or
 * frozen process frees its slots within `LEASE_TTL_MS` instead of leaking them.
 */
import type { AppDeps } from '../../deps';
import { rateLimited } from '../../errors';
import { isExempt, type Account } from './service';

export const LEASE_TTL_MS = 30_000;
const BUCKET = 'upload_concurrency';

export interface UploadSlot {
  /** Frees the slot (idempotent); call in a `finally`. */
  release(): Promise<void>;
}

const NOOP: UploadSlot = { release: async () => {} };

/** Takes an upload slot for the account or throws 429 `RATE_LIMITED` (`bucket: upload_concurrency`). */
export async function acquireUploadSlot(
  deps: Pick<AppDeps, 'config' | 'limiter' | 'log' | 'queue'>, account: Account, ttlMs = LEASE_TTL_MS,
): Promise<UploadSlot> {
  const slot = await acquireLease(deps, account, ttlMs);
  // While an upload runs, this process's background jobs (eager derivatives) wait for it.
  const resume = deps.queue.holdBackground();
  return {
    release: async () => {
      resume();
      await slot.release();
    },
  };
}

async function acquireLease(deps: Pick<AppDeps, 'config' | 'limiter' | 'log'>, account: Account, ttlMs: number): Promise<UploadSlot> {
  if (deps.config.disableRateLimit || isExempt(account)) return NOOP;
  const { max } = deps.config.rateLimits.upload_concurrency;
  const d = await deps.limiter.acquire(BUCKET, account.userId, max, ttlMs);
  const headers = { 'x-ratelimit-limit': String(max), 'x-ratelimit-remaining': String(d.remaining), 'x-ratelimit-reset': String(Math.ceil(d.resetAt / 1000)) };
  if (!d.allowed || !d.leaseId) {
    // Slots free as uploads finish, which we cannot predict; 1 s is a polite polling interval.
    throw rateLimited({ bucket: BUCKET, limit: max, remaining: 0, retry_after: 1, window_seconds: 0 }, headers);
  }
  const leaseId = d.leaseId;
  const renew = setInterval(() => {
    deps.limiter.renew(BUCKET, account.userId, leaseId, ttlMs).catch((err: unknown) => deps.log.warn({ err }, 'upload lease renewal failed'));
  }, Math.max(10, Math.floor(ttlMs / 3)));
  (renew as { unref?: () => void }).unref?.();
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      await deps.limiter.release(BUCKET, account.userId, leaseId).catch((err: unknown) => deps.log.warn({ err }, 'upload lease release failed'));
    },
  };
}
