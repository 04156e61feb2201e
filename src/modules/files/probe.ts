/**
 * Image dimensions from the header only: sharp's `metadata()` parses headers without decoding
 * pixels, so a 30000×30000 "decompression bomb" is measured in microseconds and refused
 * against `MAX_INPUT_PIXELS` before anything decodes it. An image whose whole bytes were seen
 * and whose header the transform probe could not read is refused (415) with the decoder's reason.
 */
import sharp, { type Metadata } from 'sharp';
import { unsupportedMediaType } from '../../errors';
import { FAIL_ON } from '../transform/sharp-settings';
import type { StorageDriver } from '../../storage';

/** How much of a stored image is read when its header lies beyond the upload head. */
const FALLBACK_PROBE_BYTES = 16 * 1024 * 1024;

export interface Dimensions {
  width: number | null;
  height: number | null;
}

const NONE: Dimensions = { width: null, height: null };

/**
 * Types the image pipeline decodes: for these, a header libvips cannot read in the whole file
 * means every render would fail, so the upload is refused (415) with the decoder's reason.
 */
const DECODED_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

type MetadataResult = { meta: Metadata; reason?: undefined } | { meta: null; reason: string };

/** Lenient for dimensions; `strict` reads the header as the transform probe does (transform/probe.ts). */
async function readMetadata(bytes: Uint8Array, strict = false): Promise<MetadataResult> {
  const options = strict ? { failOn: FAIL_ON, animated: true } : { failOn: 'none' as const };
  try {
    return { meta: await sharp(bytes, { limitInputPixels: false, ...options }).metadata() };
  } catch (err) {
    return { meta: null, reason: decoderReason(err) };
  }
}

/** The decoder's own words, on one line: libvips may log several (`source: bad seek…`); the last says most. */
export function decoderReason(err: unknown): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines.filter((l) => l.length > 12).at(-1) ?? lines.at(-1) ?? 'unknown error';
  return line.slice(0, 300);
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
  if (complete && DECODED_TYPES.has(contentType)) return probeWhole(contentType, head, maxPixels);
  let bytes = head;
  let read = await readMetadata(head);
  if (!read.meta?.width && !complete) {
    const prefix = await readPrefix(storage, key, FALLBACK_PROBE_BYTES);
    if (prefix) {
      bytes = prefix;
      read = await readMetadata(prefix);
    }
  }
  // Only when the decoder saw every byte: a header beyond the prefix (a big TIFF) proves nothing.
  const whole = complete || bytes.byteLength < FALLBACK_PROBE_BYTES;
  if (whole && DECODED_TYPES.has(contentType)) {
    const strict = read.meta ? await readMetadata(bytes, true) : read;
    if (strict.reason !== undefined) {
      throw unsupportedMediaType(`The image cannot be decoded: ${strict.reason}.`, { detected: contentType, reason: strict.reason });
    }
  }
  return checkPixels(contentType, read.meta, maxPixels);
}

/**
 * A whole image of a decoded type: one strict header read (an upload's common case; the
 * lenient read only to word a refusal as before). Read with all frames, its height is theirs
 * together: `pageHeight` is one frame's, as the lenient read gives it.
 */
async function probeWhole(contentType: string, bytes: Uint8Array, maxPixels: number): Promise<Dimensions> {
  const strict = await readMetadata(bytes, true);
  if (strict.meta) return checkPixels(contentType, { ...strict.meta, height: strict.meta.pageHeight ?? strict.meta.height }, maxPixels);
  const lenient = await readMetadata(bytes);
  const reason = lenient.meta ? strict.reason : lenient.reason;
  throw unsupportedMediaType(`The image cannot be decoded: ${reason}.`, { detected: contentType, reason });
}

function checkPixels(contentType: string, meta: Metadata | null, maxPixels: number): Dimensions {
  if (!meta?.width || !meta.height) return NONE;
  const frames = meta.pages ?? 1;
  const pixels = meta.width * meta.height * frames;
  if (contentType !== 'image/svg+xml' && pixels > maxPixels) {
    throw unsupportedMediaType(
      `The image is ${meta.width}×${meta.height}${frames > 1 ? ` × ${frames} frames` : ''}, over the limit of ${maxPixels} pixels.`,
      { detected: contentType, width: meta.width, height: meta.height, frames, max_pixels: maxPixels },
    );
  }
  // As displayed (and as `/t` renders it): a phone's portrait photo is stored landscape with EXIF orientation 6.
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}
