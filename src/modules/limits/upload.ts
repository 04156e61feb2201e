/**
 * Limits of an upload request (API.md §7), for `files/`:
 *
 *   const guard = await startUploadLimits(deps, limitHeadersOf(set), principal, contentLength);
 *   try { …stream, calling `await guard.chargeBytes(chunk.byteLength)` per chunk… } finally { await guard.release(); }
 *
 * One round trip counts `upload_count` and, when `Content-Length` is known, `upload_bytes`
 * with that weight, so the request that would cross the byte budget is refused before a byte is
 * read. Without a length (chunked), bytes are charged while streaming in batches, and the
 * batch that crosses throws 429 mid-stream (the caller discards what it staged). Then an
 * `upload_concurrency` lease is taken for the duration. Admins and promoted accounts are exempt.
 * Each decision goes to `report` (the route sets the response's `X-RateLimit-*` headers from it).
 */
import type { AppDeps } from '../../deps';
import { acquireUploadSlot } from './lease';
import { checkAccountLimits, isExempt, type Account } from './service';
import type { WindowDecision } from './types';

/**
 * Unknown-length uploads are charged in batches (one Redis call each) of at most 4 MiB, and of at
 * most 1/16 of the byte budget, so a small budget is still enforced close to the byte.
 */
const chargeBatchBytes = (budget: number) => Math.max(1, Math.min(4 * 1024 * 1024, Math.floor(budget / 16)));

export interface UploadLimits {
  /** Counts streamed bytes; a no-op when the declared length was already counted. Throws 429 when over. */
  chargeBytes(bytes: number): Promise<void>;
  /**
   * After a successful upload of `storedBytes` in total, charges what was not counted yet (unknown
   * length), clamped to the budget left so the next upload is refused; never throws 429.
   */
  finish(storedBytes?: number): Promise<void>;
  /** Frees the concurrency slot (idempotent). */
  release(): Promise<void>;
}

export async function startUploadLimits(
  deps: AppDeps, report: (decisions: readonly WindowDecision[]) => void, account: Account, contentLength: number | null,
): Promise<UploadLimits> {
  const off = deps.config.disableRateLimit || isExempt(account);
  const declared = contentLength !== null && Number.isFinite(contentLength) && contentLength >= 0;
  report(await checkAccountLimits(deps, account, [
    { bucket: 'upload_count' },
    // Unknown length: one byte up front, so a spent budget is refused before reading anything.
    { bucket: 'upload_bytes', weight: declared ? contentLength : 1 },
  ]));
  const slot = await acquireUploadSlot(deps, account);
  const batchBytes = chargeBatchBytes(deps.config.rateLimits.upload_bytes.max);
  let pending = declared ? 0 : -1;
  /** Bytes charged while streaming (besides the byte counted up front). */
  let charged = 0;
  const flush = async () => {
    if (pending <= 0) return;
    const weight = pending;
    pending = 0;
    charged += weight;
    report(await checkAccountLimits(deps, account, [{ bucket: 'upload_bytes', weight }]));
  };
  return {
    chargeBytes: async (bytes) => {
      if (off || declared) return;
      pending += bytes;
      if (pending >= batchBytes) await flush();
    },
    finish: async (storedBytes) => {
      if (off || declared) return;
      if (storedBytes !== undefined) pending = Math.max(pending, storedBytes - 1 - charged);
      if (pending <= 0) return;
      // The file is already stored: count what still fits (the budget ends spent), never refuse now.
      const rule = deps.config.rateLimits.upload_bytes;
      const req = { bucket: 'upload_bytes', key: account.userId, rule };
      const room = (await deps.limiter.peek({ ...req, weight: 0 })).remaining;
      const weight = Math.min(pending, room);
      pending = 0;
      if (weight > 0) await deps.limiter.consume({ ...req, weight });
    },
    release: () => slot.release(),
  };
}
