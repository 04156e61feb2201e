/**
 * Nudging the garbage collector during long streams. A big upload turns over its whole size in
 * short-lived chunks the runtime allocates for the request body; in a process whose heap is
 * already large (embedded PGlite) the collector lets that garbage pile up for hundreds of MiB
 * before it runs. Asking for a collection every few dozen MiB keeps RSS flat. On Bun this is
 * `Bun.gc(false)` (a non-blocking request, plus returning freed pages); elsewhere a no-op.
 */
import { isBun } from './runtime';

/** Requests a garbage collection without waiting for it. */
export function requestGarbageCollection(): void {
  if (isBun) Bun.gc(false);
}

/**
 * Runs a full collection now (Bun: `Bun.gc(true)`, a few ms on this heap). For streams whose
 * garbage is large external buffers (the S3 driver's 8 MiB parts) a mere request is not
 * honoured soon enough; elsewhere a no-op.
 */
export function collectGarbageNow(): void {
  if (isBun) Bun.gc(true);
}
