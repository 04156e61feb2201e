/**
 * Client Hints (`w_auto`, `dpr_auto`): the width and pixel ratio a browser announces in
 * `Sec-CH-Width`/`Width` and `Sec-CH-DPR`/`DPR` replace the URL's `auto`, rounded to steps so
 * that a few derivatives serve every device (the cache is not split per exact value):
 * - DPR: rounded up to a multiple of 0.5, from 1 to 4 (7 values); no hint → 1.
 * - Width: the hint is the layout width in device pixels; divided by the DPR and rounded up to a
 *   multiple of WIDTH_STEP (50) CSS px, at most MAX_DIMENSION / DPR; no hint → the URL's
 *   fallback (`w_auto:<px>`), else no width.
 * The substituted options are checked like written ones and give the canonical form and cache
 * key (`/t/w_auto,dpr_auto/x` with DPR 2 and Width 800 shares `w_400,dpr_2`'s derivative).
 * Responses name the hint headers in `Vary` and ask for them with `Accept-CH`.
 */
import type { ParsedTransformation, ParseLimits, TransformOptions } from './options';
import { canonicalise, checkOptions } from './parse';

export const WIDTH_STEP = 50;
export const DPR_STEP = 0.5;
export const MAX_HINT_DPR = 4;

export interface ClientHints {
  /** Layout width in device pixels. */
  width?: number;
  dpr?: number;
}

/** The hint headers each auto key depends on (for `Vary`). */
const WIDTH_HEADERS = ['Sec-CH-Width', 'Width'];
const DPR_HEADERS = ['Sec-CH-DPR', 'DPR'];
/** `Accept-CH` on hint-dependent answers. */
export const ACCEPT_CH = 'Sec-CH-Width, Sec-CH-DPR, Width, DPR';

const positive = (raw: string | null | undefined): number | undefined => {
  if (!raw || !/^\s*\d{1,5}(\.\d{1,6})?\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
};

/** Reads the hint headers (the `Sec-CH-` form first); malformed values are ignored like absent ones. */
export function readHints(get: (name: string) => string | null | undefined): ClientHints {
  const width = positive(get('sec-ch-width')) ?? positive(get('width'));
  const dpr = positive(get('sec-ch-dpr')) ?? positive(get('dpr'));
  return { ...(width !== undefined ? { width } : {}), ...(dpr !== undefined ? { dpr } : {}) };
}

/** Whether the transformation depends on hints at all. */
export const usesHints = (parsed: ParsedTransformation) => parsed.options.wauto !== undefined || parsed.options.dprauto !== undefined;

/** The header names to list in `Vary`. */
export function hintHeaders(parsed: ParsedTransformation): string[] {
  return [...(parsed.options.wauto !== undefined ? WIDTH_HEADERS : []), ...(parsed.options.dprauto ? DPR_HEADERS : [])];
}

/** DPR rounded up to the next step, 1 to 4. */
export const stepDpr = (dpr: number | undefined) => Math.min(MAX_HINT_DPR, Math.max(1, Math.ceil((dpr ?? 1) / DPR_STEP - 1e-9) * DPR_STEP));

/**
 * The transformation with `auto` replaced by the (stepped) hints: a new parsed object with its
 * own canonical form. Unchanged when nothing is `auto`.
 */
export function applyHints(parsed: ParsedTransformation, hints: ClientHints, limits: ParseLimits): ParsedTransformation {
  if (!usesHints(parsed)) return parsed;
  const { wauto, dprauto, ...rest } = parsed.options;
  const o: { -readonly [K in keyof TransformOptions]: TransformOptions[K] } = { ...rest };
  const dpr = dprauto ? stepDpr(hints.dpr) : (o.dpr ?? 1);
  if (dprauto) {
    if (dpr === 1) delete o.dpr;
    else o.dpr = dpr;
  }
  if (wauto !== undefined) {
    const maxCss = Math.floor(limits.maxDimension / dpr / WIDTH_STEP) * WIDTH_STEP;
    let w = hints.width !== undefined ? Math.ceil(hints.width / dpr / WIDTH_STEP) * WIDTH_STEP : wauto === true ? undefined : wauto;
    if (w !== undefined) {
      w = Math.max(1, Math.min(w, maxCss));
      // With a written h the pixel budget may bind first: a hint never turns a valid URL into a 400.
      if (o.h !== undefined) w = Math.max(1, Math.min(w, Math.floor(limits.maxOutputPixels / (o.h * dpr * dpr))));
      o.w = w;
    }
  }
  checkOptions(o, limits);
  const options = Object.freeze(o);
  const steps = parsed.steps ? Object.freeze([...parsed.steps.slice(0, -1), options]) : undefined;
  const canonical = steps ? steps.map(canonicalise).join('/') : canonicalise(options);
  return Object.freeze({ ...parsed, options, canonical, ...(steps ? { steps } : {}) });
}
