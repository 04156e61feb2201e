/**
 * Reads an original's header (format, size, frames, orientation) without decoding pixels, and
 * refuses what must never reach the decoder: non-raster input, more pixels than
 * MAX_INPUT_PIXELS (all frames summed), more frames than MAX_ANIMATION_FRAMES.
 */
import sharp, { type Metadata } from 'sharp';
import { invalidTransformation, unprocessableImage } from '../../errors';
import { decoderReason } from '../files/probe';
import { FAIL_ON } from './sharp-settings';

/** Formats we decode (sharp's names); SVG only when RASTERIZE_SVG=true. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif', 'tiff', 'jp2', 'jxl']);
const ANIMATABLE = new Set(['gif', 'webp']);

export interface ProbedImage {
  format: string;
  /** Size of one frame after EXIF auto-orientation. */
  width: number;
  height: number;
  pages: number;
  hasAlpha: boolean;
  /** Several frames of a GIF/WebP animation. */
  animated: boolean;
}

export interface ProbeLimits {
  maxInputPixels: number;
  maxAnimationFrames: number;
  rasterizeSvg: boolean;
}

export async function probeImage(input: Buffer | string, limits: ProbeLimits): Promise<ProbedImage> {
  let meta: Metadata;
  try {
    // limitInputPixels is off here on purpose: we want the header even for a bomb, to refuse it ourselves.
    meta = await sharp(input, { failOn: FAIL_ON, limitInputPixels: false, animated: true }).metadata();
  } catch (err) {
    // The header of a stored image does not parse (corrupt, or a format we cannot read): the
    // request is fine, the image is not, and retrying will not change that (#17.7).
    const reason = decoderReason(err);
    // A format libvips does not read at all (BMP, HEVC-coded HEIC) is not for this endpoint.
    if (/unsupported image format/i.test(reason)) throw invalidTransformation('file', 'a raster image (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)', 'not a raster image');
    throw unprocessableImage(reason);
  }
  const format = meta.format ?? 'unknown';
  if (format === 'svg' ? !limits.rasterizeSvg : !RASTER_FORMATS.has(format)) {
    throw invalidTransformation('file', 'a raster image (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF)', `not a raster image (${format})`);
  }
  const pages = Math.max(1, meta.pages ?? 1);
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  const width = meta.width ?? 0;
  if (width <= 0 || frameHeight <= 0) throw invalidTransformation('file', 'an image with a readable size', 'no size in header');
  const animated = pages > 1 && ANIMATABLE.has(format);
  const counted = animated ? pages : 1;
  if (width * frameHeight * counted > limits.maxInputPixels) {
    throw invalidTransformation('file', `a source of at most ${limits.maxInputPixels} pixels (frames summed)`, `${width}x${frameHeight}x${counted}`);
  }
  if (animated && pages > limits.maxAnimationFrames) {
    throw invalidTransformation('file', `an animation of at most ${limits.maxAnimationFrames} frames`, `${pages} frames`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    format,
    width: swap ? frameHeight : width,
    height: swap ? width : frameHeight,
    pages,
    hasAlpha: meta.hasAlpha ?? false,
    animated,
  };
}
