/**
 * What both tus stores (store.ts for fs, store-s3.ts for S3) share: the store's contract, the
 * reader loop over a PATCH body, and the full collections while a PATCH finishes.
 */
import { collectGarbageNow } from '../../platform/memory';
import type { TusPart } from './table';

/**
 * A full collection every this many bytes received by this process. Body chunks are freed as
 * soon as they are copied (platform/memory.ts `releaseChunk`), but each PATCH still leaves
 * external garbage young collections miss (on S3 the SDK's copies of each part); without these
 * collections the RSS grew by 41–68 MiB per GiB of 16 MiB PATCHes on fs. Run while the PATCH waits
 * for its last blocks to be written and hashed (or its last part sent), so that the upload
 * waits for it less. 128 MiB: about the growth of 64 MiB for half the collections
 * (docs/TUNING.md, "Measurements behind code choices").
 */
const GC_EVERY_BYTES = 128 * 1024 * 1024;
let bytesSinceGc = 0;
export function collectWhileWaiting(bytes: number): void {
  bytesSinceGc += Math.max(0, bytes);
  if (bytesSinceGc < GC_EVERY_BYTES) return;
  bytesSinceGc = 0;
  collectGarbageNow();
}

/** The storage side of an upload, as the row keeps it. */
export interface StoreState {
  id: string;
  storageKey: string;
  offset: number;
  s3UploadId: string | null;
  parts: TusPart[];
  tailSize: number;
}

export interface PendingChunk {
  /** Bytes of this PATCH written (-1: storing failed, none can be trusted). */
  readonly bytes: number;
  /**
   * With `hash`: the hex SHA-256 of the upload through this PATCH, from the running hash this
   * process kept (platform/resumable-sha256.ts); null when it did not have the bytes before.
   */
  readonly sha256: string | null;
  /** Makes them part of the upload; returns the new storage state. */
  accept(complete: boolean): Promise<Pick<StoreState, 'parts' | 'tailSize'>>;
  /** Forgets them (checksum mismatch, refused content). */
  reject(): Promise<void>;
}

export interface BodyExpectation {
  bytes: number;
  completes: boolean;
}

export interface TusStore {
  /** Starts an upload's storage (S3: the multipart upload). */
  begin(storageKey: string): Promise<{ s3UploadId: string | null }>;
  /**
   * Writes `body` after the upload's current bytes, chunk by chunk, hashing them on (`hash`: the
   * upload's running SHA-256 was not lost to another process). Resolves once the stream ends
   * or fails (the failure is in `error`: what was received up to it can still be accepted).
   * `accept(true)`: these bytes complete the upload (S3 then sends the rest as the last part).
   * `expect`: the body's length when the request declared it, and whether those bytes would
   * complete the upload (S3 then sends each part as its bytes arrive).
   */
  write(s: StoreState, body: ReadableStream<Uint8Array>, hash: boolean, expect: BodyExpectation | null): Promise<PendingChunk & { error?: unknown }>;
  /** Makes the complete upload the object at `storageKey`. */
  complete(s: StoreState): Promise<void>;
  /** Removes every byte of an unfinished upload (termination, expiry, refusal). Idempotent. */
  discard(s: StoreState): Promise<void>;
  close(): Promise<void>;
}

/** The chunks of a stream (a reader loop: not every runtime's types make streams async-iterable). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
