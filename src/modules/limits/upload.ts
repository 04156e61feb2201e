/**
 * Limits of an upload request (API.md §7), for `files/` and `tus/`:
 *
 *   const guard = await startUploadLimits(deps, limitHeadersOf(set), principal, contentLength);
 *   try { …stream, calling `await guard.chargeBytes(chunk.byteLength)` per chunk… } finally { await guard.release(); }
 *
 * One round trip counts `upload_count`; a declared length (`Content-Length`, tus `Upload-Length`)
 * must fit what is left of `upload_bytes`, so an upload that would cross it is refused before a
 * byte is read — but it is only looked at, not counted: `upload_bytes` counts the bytes that
 * arrive, in batches, and the batch that crosses throws 429 mid-stream (the caller discards what
 * it staged). An upload refused before its body is read (its declared size, its metadata, the
 * quota) so spends none of it, and one refused later what was read. The look is no reservation:
 * uploads at once may each pass it, and the one whose bytes cross the budget is refused
 * mid-stream. Then an `upload_concurrency` lease is taken for the duration. Admins and promoted accounts are exempt. Each decision goes to
 * `report` (the route sets the response's `X-RateLimit-*` headers from it).
 */
import type { AppDeps } from '../../deps';
import { acquireUploadSlot } from './lease';
import { checkAccountLimits, isExempt, peekAccountLimit, type Account } from './service';
import type { WindowDecision } from './types';

/**
 * Bytes are charged in batches (one Redis call each) of at most 4 MiB, and of at most 1/16 of
 * the byte budget, so a small budget is still enforced close to the byte.
 */
const chargeBatchBytes = (budget: number) => Math.max(1, Math.min(4 * 1024 * 1024, Math.floor(budget / 16)));

export interface ByteCharge {
  /** Counts bytes as they arrive, a batch at a time. Throws 429 when a batch would cross the budget. */
  chargeBytes(bytes: number): Promise<void>;
  /**
   * Counts what arrived and was kept but is not counted yet (`storedBytes` in all, when known),
   * clamped to the budget left so the next upload is refused; never throws 429.
   */
  finish(storedBytes?: number): Promise<void>;
}

export interface UploadLimits extends ByteCharge {
  /** Frees the concurrency slot (idempotent). */
  release(): Promise<void>;
}

/** `upload_bytes` as bytes arrive (a tus PATCH uses it alone: its upload was counted at creation). */
export function chargeUploadBytes(deps: AppDeps, report: (decisions: readonly WindowDecision[]) => void, account: Account): ByteCharge {
  const off = deps.config.disableRateLimit || isExempt(account);
  const batchBytes = chargeBatchBytes(deps.config.rateLimits.upload_bytes.max);
  let pending = 0;
  let charged = 0;
  return {
    chargeBytes: async (bytes) => {
      if (off) return;
      pending += bytes;
      if (pending < batchBytes) return;
      const weight = pending;
      pending = 0;
      charged += weight;
      report(await checkAccountLimits(deps, account, [{ bucket: 'upload_bytes', weight }]));
    },
    finish: async (storedBytes) => {
      if (off) return;
      if (storedBytes !== undefined) pending = Math.max(pending, storedBytes - charged);
      if (pending <= 0) return;
      // The bytes are already kept: count what still fits (the budget ends spent), never refuse now.
      const rule = deps.config.rateLimits.upload_bytes;
      const req = { bucket: 'upload_bytes', key: account.userId, rule };
      const room = (await deps.limiter.peek({ ...req, weight: 0 })).remaining;
      const weight = Math.min(pending, room);
      charged += pending;
      pending = 0;
      if (weight > 0) await deps.limiter.consume({ ...req, weight });
    },
  };
}

export async function startUploadLimits(
  deps: AppDeps, report: (decisions: readonly WindowDecision[]) => void, account: Account, contentLength: number | null,
): Promise<UploadLimits> {
  const declared = contentLength !== null && Number.isFinite(contentLength) && contentLength >= 0;
  // Unknown length: one byte must be left, so a spent budget is refused before reading anything.
  report(await peekAccountLimit(deps, account, 'upload_bytes', declared ? contentLength : 1));
  report(await checkAccountLimits(deps, account, [{ bucket: 'upload_count' }]));
  const slot = await acquireUploadSlot(deps, account);
  return { ...chargeUploadBytes(deps, report, account), release: () => slot.release() };
}
