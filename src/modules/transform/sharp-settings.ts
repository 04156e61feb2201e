/**
 * Process-wide sharp/libvips settings, chosen deliberately (call once at start-up):
 *
 * - `concurrency` (libvips threads per image) = cores / TRANSFORM_CONCURRENCY, at least 1.
 *   Our pool already runs one render per core; letting every render also fan out to every
 *   core oversubscribes the CPU and makes throughput worse under load (imgproxy makes the
 *   same choice: VIPS_CONCURRENCY=1 with N workers). A lone big image loses some latency.
 * - `cache(false)`: the libvips operation cache keeps decoded pixels keyed by input, which
 *   rarely repeats for us (the derivative cache sits in front) and is memory we cannot
 *   bound per request. Off keeps RSS predictable under a flood of distinct URLs.
 * - `failOn: 'error'` (per input, see `INPUT_OPTIONS`): refuse genuinely corrupt images but
 *   accept the common warnings (slightly truncated JPEGs from phones, odd PNG chunks) that
 *   the default `'warning'` would turn into failures.
 * - `limitInputPixels`: MAX_INPUT_PIXELS, a backstop behind our own header check (which also
 *   counts every frame of an animation).
 * - `timeout` on each pipeline (TRANSFORM_TIMEOUT_MS) lets libvips itself abandon runaway work.
 */
import sharp from 'sharp';
import { availableParallelism } from 'node:os';

let applied = false;

export function applySharpSettings(transformConcurrency: number): void {
  if (applied) return;
  applied = true;
  sharp.cache(false);
  sharp.concurrency(Math.max(1, Math.floor(availableParallelism() / Math.max(1, transformConcurrency))));
}

/** Input options shared by every decode. */
export const FAIL_ON = 'error' as const;
