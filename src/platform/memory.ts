/**
 * Nudging the garbage collector during long streams. A big upload turns over its whole size in
 * short-lived 64 KiB chunks the runtime allocates for the request body. In a process whose heap
 * is large (embedded PGlite's WebAssembly memory counts as the heap's extra memory) the
 * collector lets that garbage pile up for hundreds of MiB before it runs, so each chunk lands
 * on fresh pages: RSS climbs, and the page faults and the allocator handing pages back cost
 * the request thread more than reading the stream itself.
 *
 * On Bun a synchronous young-generation collection (`edenGC` of `bun:jsc`) every few MiB
 * keeps the chunks on the same few warm pages. It only visits objects allocated since the last
 * one, so its cost does not grow with the old heap, and it runs now rather than whenever a
 * request is honoured (docs/TUNING.md, "Measurements behind code choices"). Elsewhere a no-op.
 */
import { isBun } from './runtime';

const jsc = isBun ? await import('bun:jsc') : null;

/** Collects the garbage allocated since the last collection (cheap: the young generation only). */
export function collectYoungGarbage(): void {
  jsc?.edenGC();
}

/**
 * Runs a full collection now (Bun: `Bun.gc(true)`, a few ms on this heap). For streams whose
 * garbage is large external buffers (the S3 driver's 8 MiB parts) a mere request is not
 * honoured soon enough; elsewhere a no-op.
 */
export function collectGarbageNow(): void {
  if (isBun) Bun.gc(true);
}

/**
 * Request-body chunks whose memory may be handed back as soon as their last reader is done with
 * them (`releaseChunk`). Only chunks a request body stream produced are marked, and only by
 * callers that know no one else keeps them (raw and tus uploads, not the multipart parser).
 */
const owned = new WeakSet<Uint8Array>();

export function markOwned(chunk: Uint8Array): Uint8Array {
  owned.add(chunk);
  return chunk;
}

/**
 * Frees a marked chunk's memory now instead of at the next collection, by detaching its
 * buffer (`ArrayBuffer.prototype.transfer(0)`). Big bodies arrive in chunks of up to 512 KiB;
 * left to the collector, each lands on freshly mapped pages and the request thread spends
 * most of its time in page faults, while one freed at once is reused warm (docs/TUNING.md,
 * "Request bodies: chunks handed back at once"). Call only when every reader has copied the
 * chunk; anything else (unmarked, a view into a larger buffer, a buffer that cannot be
 * detached) is left to the collector.
 */
export function releaseChunk(chunk: Uint8Array): void {
  if (!owned.has(chunk)) return;
  owned.delete(chunk);
  const buffer = chunk.buffer;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || !(buffer instanceof ArrayBuffer)) return;
  try {
    // ES2024; typed here because the project's lib is ES2023. Bun and Deno both have it.
    (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
  } catch {
    /* not detachable (a runtime-owned buffer): the collector frees it */
  }
}
