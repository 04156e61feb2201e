/**
 * HEVC-coded HEIC (phones' photos) made readable for sharp: its pixels, decoded off-thread
 * (platform/heic.ts), as a JPEG of quality 95 (a PNG when it has alpha) that keeps the photo's
 * colour profile (an iPhone's is Display P3: read as sRGB, its colours came out dull). A JPEG
 * rather than raw pixels: a 12 MP photo is 1–2 MB instead of 36 (bench/heic.ts), so the source cache keeps it and
 * the other sizes of a page do not decode it again, and JPEG's shrink-on-load makes thumbnails
 * of it cheap; at quality 95 it adds nothing visible to the HEVC's own loss.
 */
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { overloaded, unprocessableImage } from '../../errors';
import { decodeHeic, HeicDecodeError } from '../../platform/heic';

/** A libvips built with libde265 reads HEVC itself: then nothing is done here. */
const NATIVE_HEVC = ((sharp.format.heif?.input as { fileSuffix?: string[] } | undefined)?.fileSuffix ?? []).includes('.heic');

/** An ISO-BMFF file (`ftyp` at byte 4): HEIF, AVIF and friends. */
const isIsoFile = (b: Uint8Array) => b.length > 12 && b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70;

/**
 * Decoded photos by SHA-256, for the readers that follow one another on a new photo (its
 * metadata, its first renders, its `/info`): one decode (0.7 s of a core for 12 MP) instead of
 * one each. At most `KEPT_BYTES`, about 10–20 phone photos; the source cache of renders keeps its own.
 */
const KEPT_BYTES = 32 * 1024 * 1024;
const kept = new LRUCache<string, Buffer>({ maxSize: KEPT_BYTES, sizeCalculation: (b) => Math.max(1, b.byteLength) });
const decoding = new Map<string, Promise<Buffer>>();

/**
 * `input` as bytes sharp decodes: an HEVC-coded HEIC becomes a JPEG (or PNG) of its pixels; anything else
 * (and an image over `maxPixels`, for its reader's own refusal) is returned as it is. With `sha256`
 * (of `input`), a photo decoded lately, or being decoded, is not decoded again.
 */
export async function readableImage(input: Buffer, o: { maxPixels: number; timeoutMs: number; sha256?: string }): Promise<Buffer> {
  if (NATIVE_HEVC || !isIsoFile(input)) return input;
  const key = o.sha256;
  if (!key) return decodedImage(input, o);
  const found = kept.get(key) ?? decoding.get(key);
  if (found) return found;
  const run = decodedImage(input, o)
    .then((out) => {
      if (out !== input && out.byteLength <= KEPT_BYTES / 8) kept.set(key, out);
      return out;
    })
    .finally(() => decoding.delete(key));
  decoding.set(key, run);
  return run;
}

async function decodedImage(input: Buffer, o: { maxPixels: number; timeoutMs: number }): Promise<Buffer> {
  const meta = await sharp(input).metadata().catch(() => null);
  if (meta?.compression !== 'hevc' || !meta.width || !meta.height || meta.width * meta.height > o.maxPixels) return input;
  const { width, height, pixels } = await decodeHeic(input, o.timeoutMs).catch((err: unknown) => {
    // Corrupt inside its data (the header read): the photo's fault, a 422 that is remembered. Out
    // of time or a failed thread: the server's state, a 503 to ask again (never remembered).
    if (err instanceof HeicDecodeError) throw unprocessableImage(`HEIC: ${err.message}`);
    throw overloaded('This HEIC photo could not be decoded now; ask again in a moment.', 5);
  });
  const img = sharp(pixels, { raw: { width, height, channels: 4 } });
  if (meta.hasAlpha) {
    const png = await img.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
    return meta.icc ? pngWithProfile(png, meta.icc) : png;
  }
  const jpeg = await img.removeAlpha().jpeg({ quality: 95 }).toBuffer();
  return meta.icc ? jpegWithProfile(jpeg, meta.icc) : jpeg;
}

/** The PNG with an `iCCP` chunk after its `IHDR` (8-byte signature, then IHDR's 25 bytes). */
export function pngWithProfile(png: Buffer, icc: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)]); // name, NUL, method 0
  const type = Buffer.from('iCCP', 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, body])));
  const at = 8 + 25;
  return Buffer.concat([png.subarray(0, at), head, type, body, crc, png.subarray(at)]);
}

/** Most of a profile one APP2 segment holds (65 535 less the length, the name and the two counters). */
const ICC_CHUNK = 65_519;

/** The JPEG with the profile in `ICC_PROFILE` APP2 segments right after its SOI marker. */
export function jpegWithProfile(jpeg: Buffer, icc: Buffer): Buffer {
  const count = Math.ceil(icc.length / ICC_CHUNK);
  if (count > 255) return jpeg; // a profile over 16 MB is no profile
  const segments = Array.from({ length: count }, (_, i) => {
    const part = icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK);
    const head = Buffer.alloc(4);
    head.writeUInt16BE(0xffe2);
    head.writeUInt16BE(2 + 12 + 2 + part.length, 2);
    return Buffer.concat([head, Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([i + 1, count]), part]);
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}
