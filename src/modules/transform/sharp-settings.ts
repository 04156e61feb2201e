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

/** Lossy encoder settings the pipeline uses (`q_` overrides the quality only). */
export interface EncoderSettings {
  jpeg: { quality: number };
  webp: { quality: number; effort: number };
  avif: { quality: number; effort: number; chromaSubsampling: '4:2:0' | '4:4:4' };
}

/**
 * Chosen by `bun bench/formats.ts` (figures in docs/TUNING.md, "Output encoders" and
 * "Measurements behind code choices"). AVIF is what Chrome gets for `f_auto`, so its encode is
 * every Chrome user's first view:
 * - effort 0 (aom speed 9): close to the JPEG render's cost, where effort 4 can pass the
 *   transform timeout under load; effort 1 costs much more for slightly smaller files.
 *   imgproxy likewise defaults to a fast speed (8).
 * - 4:2:0 chroma, like the JPEG and WebP we serve and libvips' own default: a little smaller and
 *   faster than 4:4:4 (sharp's default), chroma as faithful as JPEG's.
 * - quality 58: the lowest whose luma SSIM is not below the old default's (effort 4, q55);
 *   files stay about as small as WebP q80's.
 * The eager `derive` job renders through the same pipeline, so uses these too.
 */
export const ENCODERS: EncoderSettings = {
  jpeg: { quality: 80 },
  webp: { quality: 80, effort: 4 },
  avif: { quality: 58, effort: 0, chromaSubsampling: '4:2:0' },
};
