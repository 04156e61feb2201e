/**
 * Image dimensions from the header only: sharp's `metadata()` parses headers without decoding
 * pixels, so a 30000×30000 "decompression bomb" is measured in microseconds and refused
 * against `MAX_INPUT_PIXELS` before anything decodes it.
 */
import sharp from 'sharp';
import { unsupportedMediaType } from '../../errors';
import type { StorageDriver } from '../../storage';

/** How much of a stored image is read when its header lies beyond the upload head. */
const FALLBACK_PROBE_BYTES = 16 * 1024 * 1024;

export interface Dimensions {
  width: number | null;
  height: number | null;
}

const NONE: Dimensions = { width: null, height: null };

async function readMetadata(bytes: Uint8Array) {
  try {
    return await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch {
    return null;
  }
}

async function readPrefix(storage: StorageDriver, key: string, bytes: number): Promise<Uint8Array | null> {
  const stream = await storage.get(key, { start: 0, end: bytes - 1 });
  return stream ? new Uint8Array(await new Response(stream).arrayBuffer()) : null;
}

/**
 * Width and height of an image (null for other types or unreadable headers); throws 415 when
 * the header declares more pixels (all frames) than `maxPixels`.
 */
export async function probeImage(
  contentType: string, head: Uint8Array, complete: boolean, maxPixels: number,
  storage: StorageDriver, key: string,
): Promise<Dimensions> {
  if (!contentType.startsWith('image/')) return NONE;
  let meta = await readMetadata(head);
  if (!meta?.width && !complete) {
    const prefix = await readPrefix(storage, key, FALLBACK_PROBE_BYTES);
    if (prefix) meta = await readMetadata(prefix);
  }
  if (!meta?.width || !meta.height) return NONE;
  const frames = meta.pages ?? 1;
  const pixels = meta.width * meta.height * frames;
  if (contentType !== 'image/svg+xml' && pixels > maxPixels) {
    throw unsupportedMediaType(
      `The image is ${meta.width}×${meta.height}${frames > 1 ? ` × ${frames} frames` : ''}, over the limit of ${maxPixels} pixels.`,
      { detected: contentType, width: meta.width, height: meta.height, frames, max_pixels: maxPixels },
    );
  }
  return { width: meta.width, height: meta.height };
}
