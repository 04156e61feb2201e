/**
 * Which transformation keys mean something for which target (TRANSFORMS.md, "Video"):
 * `so` picks a video's poster frame or starts a rendition; `eo`, `ac`, `fps`, `br` only shape a
 * rendition (`/t/…/<id>.mp4|.webm`); a rendition takes only the keys ffmpeg applies. Anything
 * else is refused with 400 INVALID_TRANSFORMATION rather than silently ignored.
 */
import { invalidTransformation } from '../../errors';
import type { TransformOptions } from '../transform/options';

export const RENDITION_EXTENSIONS = ['mp4', 'webm'] as const;
export type RenditionExt = (typeof RENDITION_EXTENSIONS)[number];

export const renditionExtOf = (ext: string | undefined): RenditionExt | undefined => {
  const e = ext?.toLowerCase();
  return e === 'mp4' || e === 'webm' ? e : undefined;
};

const VIDEO_ONLY = ['so', 'eo', 'ac', 'fps', 'br'] as const;
const RENDITION_ONLY = ['eo', 'ac', 'fps', 'br'] as const;
/** Keys a rendition applies. */
const RENDITION_KEYS = new Set(['w', 'h', 'dpr', 'c', 'q', 'so', 'eo', 'ac', 'fps', 'br']);
/** Resize modes a rendition supports. */
const RENDITION_CROPS = new Set(['fill', 'lfill', 'fit', 'limit', 'scale', 'pad']);

/** A refused key's value as written, when it is one (effects and layers parse to objects, which read "[object Object]"). */
const valueOf = (o: TransformOptions, k: string): string | undefined => {
  const v = (o as Record<string, unknown>)[k];
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
};

export function checkVideoOptions(contentType: string, o: TransformOptions, rendition: RenditionExt | undefined): void {
  const isVideo = contentType.startsWith('video/');
  if (rendition) {
    if (!isVideo) throw invalidTransformation('ext', 'mp4 or webm only for video files', rendition);
    for (const k of Object.keys(o)) {
      if (!RENDITION_KEYS.has(k)) throw invalidTransformation(k, `a video rendition takes only ${[...RENDITION_KEYS].join(', ')}`, valueOf(o, k));
    }
    if (o.c && !RENDITION_CROPS.has(o.c)) throw invalidTransformation('c', `for video: ${[...RENDITION_CROPS].join(', ')}`, o.c);
    return;
  }
  for (const k of isVideo ? RENDITION_ONLY : VIDEO_ONLY) {
    if ((o as Record<string, unknown>)[k] !== undefined) {
      throw invalidTransformation(k, isVideo ? 'only in video renditions (/t/…/<id>.mp4 or .webm)' : 'only on video files', valueOf(o, k));
    }
  }
}
