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
