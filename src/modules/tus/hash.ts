/**
 * The SHA-256 of a tus upload, whose bytes arrive over several requests. The digest must be of
 * the whole file, and no hash the runtime makes fast (node:crypto) can be saved and loaded
 * elsewhere; hash-wasm's can, but it ran ~3× slower and capped tus uploads at a third of the
 * raw upload's throughput (bench/tus.ts). So: each process keeps the running node:crypto hash
 * of the uploads it received last (`copy()` per request, so a refused chunk leaves it as it
 * was). A request that finds none for its offset (a restart, another process, evicted) marks
 * the upload, and its digest is then taken by reading the stored file once when it completes.
 */
import { createHash, type Hash } from 'node:crypto';

/** Uploads whose running hash a process keeps (oldest dropped first: they are then re-read). */
const MAX_KEPT = 1000;
const kept = new Map<string, { offset: number; hash: Hash }>();

export interface ChunkHasher {
  /** Null when this process does not hold the hash of the bytes before this chunk. */
  readonly hash: Hash | null;
  /** Keeps the hash of the bytes through `offset` (the chunk was accepted). */
  accept(offset: number): void;
}

/** The hash to continue an upload at `offset` with, if this process has it. */
export function chunkHasher(uploadId: string, offset: number): ChunkHasher {
  const prior = kept.get(uploadId);
  const hash = offset === 0 ? createHash('sha256') : prior && prior.offset === offset ? prior.hash.copy() : null;
  return {
    hash,
    accept(end) {
      kept.delete(uploadId);
      if (!hash) return;
      kept.set(uploadId, { offset: end, hash });
      if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value as string);
    },
  };
}

/** The hex digest of an upload's kept hash (its last byte arrived), forgetting it. */
export function digestOf(uploadId: string, h: ChunkHasher): string | null {
  kept.delete(uploadId);
  return h.hash ? h.hash.digest('hex') : null;
}

export const forgetHash = (uploadId: string): void => void kept.delete(uploadId);
