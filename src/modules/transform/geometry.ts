/**
 * Pure geometry: from the (auto-oriented) source size and the options, the region to extract
 * (`c_crop`), the resize box, the size each resize mode will produce and the size after
 * rotation. Computed from the header before any pixel is decoded, so that every intermediate
 * and the final output are checked against MAX_DIMENSION / MAX_OUTPUT_PIXELS up front: those
 * limits also bound the raw frames a render holds (docs/TUNING.md, "Memory of a render").
 */
import { invalidTransformation } from '../../errors';
import type { CropMode, Gravity, TransformOptions } from './options';
import { effectiveCrop, effectiveGravity } from './parse';

export interface Size {
  width: number;
  height: number;
}

export interface Region extends Size {
  left: number;
  top: number;
}

export interface GeometryPlan {
  /** Region of the source to keep first (`c_crop`), if any. */
  extract?: Region;
  /** Requested box in device pixels (w × dpr, h × dpr, completed by `ar`); absent sides are free. */
  box: { width?: number; height?: number };
  /** Size after the resize step (padding of `pad`/`lpad` included), before rotation. */
  output: Size;
  /** Size after `pd_` (equal to `output` without it). */
  padded: Size;
  /** Size after rotation (`a_`): the rotated frame's bounding box; what the client receives without `bo_`. */
  final: Size;
  /** Size after the border (`bo_`): what the client receives. */
  bordered: Size;
  mode: CropMode;
  gravity: Gravity;
}

export interface GeometryLimits {
  maxDimension: number;
  maxOutputPixels: number;
  /** An animation's output, all frames summed, may hold at most this many pixels (MAX_INPUT_PIXELS). */
  maxAnimationPixels?: number;
}

const px = (n: number) => Math.max(1, Math.round(n));

/** Position of a `width`×`height` window inside `outer` at a compass gravity. */
export function placeByGravity(outer: Size, inner: Size, gravity: Gravity): { left: number; top: number } {
  const dx = outer.width - inner.width;
  const dy = outer.height - inner.height;
  const left = gravity.includes('west') ? 0 : gravity.includes('east') ? dx : Math.floor(dx / 2);
  const top = gravity.startsWith('north') ? 0 : gravity.startsWith('south') ? dy : Math.floor(dy / 2);
  return { left, top };
}

/** The requested box: `w`/`h` × `dpr`, with `ar` filling in the missing side (or both, from the source). */
function requestedBox(o: TransformOptions, source: Size): { width?: number; height?: number } {
  const dpr = o.dpr ?? 1;
  let width = o.w !== undefined ? o.w * dpr : undefined;
  let height = o.h !== undefined ? o.h * dpr : undefined;
  if (o.ar !== undefined) {
    if (width !== undefined && height === undefined) height = width / o.ar;
    else if (height !== undefined && width === undefined) width = height * o.ar;
    else if (width === undefined && height === undefined) {
      width = source.width;
      height = width / o.ar;
      if (height > source.height) {
        height = source.height;
        width = height * o.ar;
      }
    }
  }
  return { width: width === undefined ? undefined : px(width), height: height === undefined ? undefined : px(height) };
}

/** Output size of resizing `source` into `box` with `mode`. */
function resizedSize(source: Size, box: { width?: number; height?: number }, mode: CropMode): Size {
  const { width: bw, height: bh } = box;
  if (bw === undefined && bh === undefined) return source;
  const sx = bw !== undefined ? bw / source.width : undefined;
  const sy = bh !== undefined ? bh / source.height : undefined;
  const proportional = (scale: number) => ({ width: px(source.width * scale), height: px(source.height * scale) });
  if (sx === undefined || sy === undefined) {
    const scale = (sx ?? sy) as number;
    const noEnlarge = mode === 'limit' || mode === 'lfill' || mode === 'lpad';
    return proportional(noEnlarge ? Math.min(1, scale) : scale);
  }
  switch (mode) {
    case 'fill': case 'thumb': case 'scale': case 'pad': return { width: bw as number, height: bh as number };
    case 'lfill': return { width: Math.min(bw as number, source.width), height: Math.min(bh as number, source.height) };
    case 'lpad': return { width: bw as number, height: bh as number };
    case 'fit': return proportional(Math.min(sx, sy));
    case 'mfit': return proportional(Math.max(sx, sy));
    case 'limit': return proportional(Math.min(1, sx, sy));
    case 'crop': return source;
  }
}

/**
 * Bounding box of `size` rotated by `degrees`, rounded as libvips' `rotate` does (the same
 * size in 300 random cases, right angles exact): what the client receives.
 */
export function rotatedSize(size: Size, degrees: number | undefined): Size {
  const a = (((degrees ?? 0) % 360) + 360) % 360;
  if (a === 0 || a === 180) return size;
  if (a === 90 || a === 270) return { width: size.height, height: size.width };
  const rad = (a * Math.PI) / 180;
  const cos = Math.abs(Math.cos(rad));
  const sin = Math.abs(Math.sin(rad));
  return {
    width: Math.round(size.width * cos + size.height * sin),
    height: Math.round(size.width * sin + size.height * cos),
  };
}

/**
 * Refuses (400) a step whose result exceeds the output limits, naming the step, the limit and
 * the size it would have produced. `parameter` is the key that asked for the step.
 */
export function checkStepSize(step: string, parameter: string, size: Size, limits: GeometryLimits, frames = 1): void {
  const pixels = size.width * size.height;
  if (size.width > limits.maxDimension || size.height > limits.maxDimension || pixels > limits.maxOutputPixels) {
    throw invalidTransformation(parameter,
      `an output of at most ${limits.maxDimension} px per side and ${limits.maxOutputPixels} pixels after every step (${step} would give ${size.width}x${size.height})`,
      `${size.width}x${size.height}`);
  }
  if (frames > 1 && limits.maxAnimationPixels !== undefined && pixels * frames > limits.maxAnimationPixels) {
    throw invalidTransformation(parameter,
      `an animated output of at most ${limits.maxAnimationPixels} pixels, frames summed (${step} would give ${frames} frames of ${size.width}x${size.height})`,
      `${size.width}x${size.height}x${frames}`);
  }
}

/**
 * Plans the geometry and refuses (400) any step over the limits: the resize (padding
 * included) and the rotation's bounding box, each times `frames` for an animation. Effects
 * and rounded corners keep the size. `e_trim` shrinks by an amount only the pixels tell: the
 * pipeline trims first and plans again with the trimmed size.
 */
export function planGeometry(source: Size, o: TransformOptions, limits: GeometryLimits, frames = 1, regionDone = false): GeometryPlan {
  const plan = planResize(source, o, limits, regionDone);
  const scaled = smartCoverSize(source, plan);
  if (scaled) checkStepSize(`the scale before the g_${o.g ?? 'auto'} crop`, 'g', scaled, limits, frames);
  checkStepSize('the resize', 'w', plan.output, limits, frames);
  const dpr = o.dpr ?? 1;
  const [top, right, bottom, left] = o.pd ? o.pd.map((v) => Math.round(v * dpr)) as [number, number, number, number] : [0, 0, 0, 0];
  const padded = o.pd ? { width: plan.output.width + left + right, height: plan.output.height + top + bottom } : plan.output;
  if (padded !== plan.output) checkStepSize('the padding', 'pd', padded, limits, frames);
  const final = rotatedSize(padded, o.a);
  if (final !== padded) checkStepSize(`rotation by ${o.a}°`, 'a', final, limits, frames);
  const bw = o.bo ? 2 * Math.max(1, Math.round(o.bo.width * dpr)) : 0;
  const bordered = bw ? { width: final.width + bw, height: final.height + bw } : final;
  if (bordered !== final) checkStepSize('the border', 'bo', bordered, limits, frames);
  return { ...plan, padded, final, bordered };
}

/**
 * A fill whose crop libvips picks by content (`g_auto`, `g_entropy`, `c_thumb`) scales the
 * whole source to cover the box first and scores every pixel of it; a compass gravity cuts
 * before the pixels are made. That cover is a step like any other: filling 1×8192 from 100×10
 * made an 81920×8192 image (1 GB, 15 s) for a 1-pixel-wide answer.
 */
function smartCoverSize(source: Size, plan: Pick<GeometryPlan, 'box' | 'mode' | 'gravity' | 'extract'>): Size | null {
  const { box, mode, gravity } = plan;
  if (gravity !== 'auto' && gravity !== 'entropy') return null;
  if (mode !== 'fill' && mode !== 'lfill' && mode !== 'thumb') return null;
  if (box.width === undefined || box.height === undefined) return null;
  const from = plan.extract ?? source;
  const cover = Math.max(box.width / from.width, box.height / from.height);
  const scale = mode === 'lfill' ? Math.min(1, cover) : cover;
  return { width: px(from.width * scale), height: px(from.height * scale) };
}

/**
 * The extract region and resize of the plan, unchecked. `regionDone`: `source` is already the
 * `c_crop` region (trimmed since), so nothing is extracted again.
 */
export function planResize(source: Size, o: TransformOptions, limits: GeometryLimits, regionDone = false): Omit<GeometryPlan, 'final' | 'padded' | 'bordered'> {
  const mode = effectiveCrop(o);
  const gravity = effectiveGravity(o);
  const box = requestedBox(o, source);
  let extract: Region | undefined;
  let resizeFrom = source;
  if (mode === 'crop' && !regionDone) {
    const width = Math.min(box.width ?? source.width, source.width);
    const height = Math.min(box.height ?? source.height, source.height);
    const at = o.x !== undefined || o.y !== undefined
      ? { left: o.x ?? 0, top: o.y ?? 0 }
      : placeByGravity(source, { width, height }, gravity === 'auto' || gravity === 'entropy' ? 'center' : gravity);
    // Each offset that falls outside names itself.
    if (at.left >= source.width) throw invalidTransformation('x', `an offset inside the ${source.width}×${source.height} image (x below ${source.width})`, String(at.left));
    if (at.top >= source.height) throw invalidTransformation('y', `an offset inside the ${source.width}×${source.height} image (y below ${source.height})`, String(at.top));
    extract = { left: at.left, top: at.top, width: Math.min(width, source.width - at.left), height: Math.min(height, source.height - at.top) };
    resizeFrom = extract;
  }
  let output = mode === 'crop' ? resizeFrom : resizedSize(source, box, mode);
  // Nothing asked for but the source itself (rotated, if asked) exceeds the output limits:
  // scale it down to fit. A rotation's bounding box scales with the image.
  if (box.width === undefined && box.height === undefined && mode !== 'crop') {
    const turned = rotatedSize(output, o.a);
    const scale = Math.min(1, limits.maxDimension / turned.width, limits.maxDimension / turned.height,
      Math.sqrt(limits.maxOutputPixels / (turned.width * turned.height)));
    if (scale < 1) {
      output = { width: Math.floor(output.width * scale) || 1, height: Math.floor(output.height * scale) || 1 };
      return { extract, box: { width: output.width, height: output.height }, output, mode: 'fit', gravity };
    }
  }
  return { extract, box, output, mode, gravity };
}
