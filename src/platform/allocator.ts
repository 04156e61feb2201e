/**
 * Handing freed native memory back to the OS (#17.19). libvips allocates its pixel buffers with
 * glibc's malloc (Bun's mimalloc serves JavaScript only), and glibc keeps what a render freed in
 * its arenas, one per thread that allocated, for reuse: after a burst of big renders RSS stays
 * near the peak although nothing is in use. Two things hold it: raw frames sharp handed to
 * JavaScript, freed only when the collector finalises their Buffers, and glibc's free pages,
 * which `malloc_trim(0)` returns. Six large renders, two at a time, in one process: 449 MiB
 * after a full collection, 119 MiB after the trim, from 78 MiB before the load (docs/TUNING.md,
 * "Memory of a render"). The transform pool asks for both once it has been idle a second.
 *
 * The trim is Bun on Linux with glibc only (through `bun:ffi`); elsewhere a no-op.
 */
import { collectGarbageNow } from './memory';
import { isBun } from './runtime';

type Trim = (pad: number) => number;

async function loadTrim(): Promise<Trim | null> {
  if (!isBun || process.platform !== 'linux') return null;
  try {
    const { dlopen, FFIType } = await import('bun:ffi');
    const libc = dlopen('libc.so.6', { malloc_trim: { args: [FFIType.u64], returns: FFIType.i32 } });
    return (pad) => libc.symbols.malloc_trim(pad);
  } catch {
    return null; // not glibc (musl has no libc.so.6 / no malloc_trim)
  }
}

const trim = await loadTrim();

/** Returns free heap pages of every malloc arena to the OS (glibc); a no-op elsewhere. */
export function returnFreedMemory(): void {
  trim?.(0);
}

/** Quiet time before releasing, so a busy pool that empties for a moment pays nothing. */
const SETTLE_MS = 1000;
let pending: ReturnType<typeof setTimeout> | undefined;

/**
 * After `SETTLE_MS` in which this is not called again and `stillIdle()` holds: a full
 * collection (a few ms; finalises the Buffers of raw frames) and then the trim.
 */
export function releaseMemoryWhenIdle(stillIdle: () => boolean): void {
  clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    if (!stillIdle()) return;
    collectGarbageNow();
    returnFreedMemory();
  }, SETTLE_MS);
  (pending as { unref?: () => void }).unref?.();
}
