/**
 * Pure geometry: from the (auto-oriented) source size and the options, the region to extract
 * (`c_crop`), the resize box and the output size each resize mode will produce. Computed from
 * the header before any pixel is decoded, so oversized outputs are refused up front.
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
  /** The output size this plan produces (before rotation by non-right angles). */
  output: Size;
  mode: CropMode;
  gravity: Gravity;
}

export interface GeometryLimits {
  maxDimension: number;
  maxOutputPixels: number;
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

/** Plans the geometry and refuses (400) outputs over the limits. */
export function planGeometry(source: Size, o: TransformOptions, limits: GeometryLimits): GeometryPlan {
  const mode = effectiveCrop(o);
  const gravity = effectiveGravity(o);
  const box = requestedBox(o, source);
  let extract: Region | undefined;
  let resizeFrom = source;
  if (mode === 'crop') {
    const width = Math.min(box.width ?? source.width, source.width);
    const height = Math.min(box.height ?? source.height, source.height);
    const at = o.x !== undefined || o.y !== undefined
      ? { left: o.x ?? 0, top: o.y ?? 0 }
      : placeByGravity(source, { width, height }, gravity === 'auto' || gravity === 'entropy' ? 'center' : gravity);
    if (at.left >= source.width || at.top >= source.height) {
      throw invalidTransformation('x', `offsets inside the ${source.width}×${source.height} image`, `${at.left},${at.top}`);
    }
    extract = { left: at.left, top: at.top, width: Math.min(width, source.width - at.left), height: Math.min(height, source.height - at.top) };
    resizeFrom = extract;
  }
  let output = mode === 'crop' ? resizeFrom : resizedSize(source, box, mode);
  // Nothing asked for but the source itself exceeds the output limits: scale it down to fit.
  if (box.width === undefined && box.height === undefined && mode !== 'crop') {
    const scale = Math.min(1, limits.maxDimension / output.width, limits.maxDimension / output.height,
      Math.sqrt(limits.maxOutputPixels / (output.width * output.height)));
    if (scale < 1) {
      output = { width: Math.floor(output.width * scale) || 1, height: Math.floor(output.height * scale) || 1 };
      return { extract, box: { width: output.width, height: output.height }, output, mode: 'fit', gravity };
    }
  }
  if (output.width > limits.maxDimension || output.height > limits.maxDimension || output.width * output.height > limits.maxOutputPixels) {
    throw invalidTransformation('w', `an output of at most ${limits.maxDimension} px per side and ${limits.maxOutputPixels} pixels`, `${output.width}x${output.height}`);
  }
  return { extract, box, output, mode, gravity };
}
