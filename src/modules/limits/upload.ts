/**
 * Limits of an upload request (API.md §7), for `files/`:
 *
 *   const guard = await startUploadLimits(deps, set, principal, contentLength);
 *   try { …stream, calling `await guard.chargeBytes(chunk.byteLength)` per chunk… } finally { await guard.release(); }
 *
 * One round trip counts `upload_count` and, when `Content-Length` is known, `upload_bytes`
 * with that weight, so the request that would cross the byte budget is refused before a byte is
 * read. Without a length (chunked), bytes are charged while streaming in batches, and the
 * batch that crosses throws 429 mid-stream (the caller discards what it staged). Then an
 * `upload_concurrency` lease is taken for the duration. Admins and promoted accounts are exempt.
 */
import type { AppDeps } from '../../deps';
import { acquireUploadSlot } from './lease';
import { enforceAccountLimits, isExempt, type Account, type HeaderSink } from './service';

/** Unknown-length uploads are charged in batches of this many bytes (one Redis call each). */
const CHARGE_BATCH_BYTES = 4 * 1024 * 1024;

export interface UploadLimits {
  /** Counts streamed bytes; a no-op when the declared length was already counted. Throws 429 when over. */
  chargeBytes(bytes: number): Promise<void>;
  /** Charges any remainder (call after the stream ended successfully). */
  finish(): Promise<void>;
  /** Frees the concurrency slot (idempotent). */
  release(): Promise<void>;
}

export async function startUploadLimits(deps: AppDeps, set: HeaderSink, account: Account, contentLength: number | null): Promise<UploadLimits> {
  const off = deps.config.disableRateLimit || isExempt(account);
  const declared = contentLength !== null && Number.isFinite(contentLength) && contentLength >= 0;
  await enforceAccountLimits(deps, set, account, [
    { bucket: 'upload_count' },
    // Unknown length: one byte up front, so a spent budget is refused before reading anything.
    { bucket: 'upload_bytes', weight: declared ? contentLength : 1 },
  ]);
  const slot = await acquireUploadSlot(deps, account);
  let pending = declared ? 0 : -1;
  const flush = async () => {
    if (pending <= 0) return;
    const weight = pending;
    pending = 0;
    await enforceAccountLimits(deps, set, account, [{ bucket: 'upload_bytes', weight }]);
  };
  return {
    chargeBytes: async (bytes) => {
      if (off || declared) return;
      pending += bytes;
      if (pending >= CHARGE_BATCH_BYTES) await flush();
    },
    finish: async () => {
      if (!off && !declared) await flush();
    },
    release: () => slot.release(),
  };
}
