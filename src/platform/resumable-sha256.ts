/**
 * SHA-256 states that outlive a stream: a resumable (tus) upload's bytes arrive over many
 * requests and its digest must be of the whole file. No hash the runtime makes fast
 * (node:crypto) can be saved and loaded elsewhere, so the thread that hashes keeps the running
 * state of each upload it saw last, keyed by the upload and the offset it reached. A stream
 * starting at offset `base` continues a copy of the state at `base` (so a refused chunk leaves
 * it as it was) and, at its end, leaves its own state at `base + bytes`. A stream that finds no
 * state (another process or an earlier life of this one took the bytes before it; evicted)
 * hashes nothing and says so (`null`): the caller then reads the stored file once at the end.
 *
 * The same functions serve the hashing thread (`sha256-worker.ts`) and, where workers cannot
 * run, the calling thread: each keeps its own states.
 */
import { createHash, type Hash } from 'node:crypto';

/** Uploads whose states a thread keeps (oldest dropped first: they are then re-read at their end). */
const MAX_KEPT = 1000;
/** By upload: offset → the hash of the bytes before it. */
const kept = new Map<string, Map<number, Hash>>();

export interface ResumedHash {
  key: string;
  base: number;
  /** Null: no state at `base` here; nothing is hashed. */
  hash: Hash | null;
  bytes: number;
}

/** Continues `key` at `base` (a fresh hash at 0). Forgets the key's other states: `base` is the offset the upload stands at. */
export function resumeHash(key: string, base: number): ResumedHash {
  const states = kept.get(key);
  const prior = states?.get(base) ?? null;
  kept.delete(key);
  if (prior) kept.set(key, new Map([[base, prior]]));
  return { key, base, hash: base === 0 ? createHash('sha256') : prior?.copy() ?? null, bytes: 0 };
}

export function updateHash(r: ResumedHash, bytes: Uint8Array): void {
  r.hash?.update(bytes);
  r.bytes += bytes.byteLength;
}

/**
 * Keeps the state at the stream's end (beside the one at its start, until the next stream
 * says which offset the upload took) and returns the hex digest of every byte through it, or
 * null when this thread did not have the bytes before the stream.
 */
export function endHash(r: ResumedHash): string | null {
  if (!r.hash) return null;
  const states = kept.get(r.key) ?? new Map<number, Hash>();
  kept.delete(r.key); // re-inserted last: the most recently used
  states.set(r.base + r.bytes, r.hash);
  kept.set(r.key, states);
  if (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value as string);
  return r.hash.copy().digest('hex');
}
