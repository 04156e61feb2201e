/**
 * Finds where a photo keeps its location and returns the in-place patches that blank it, for
 * JPEG, PNG, WebP, HEIF/AVIF and TIFF: the EXIF GPS directory (gps-tiff.ts) and the GPS
 * properties of XMP (gps-xmp.ts). Only the container structure is read,
 * through random access (a few small reads for most photos), so memory stays bounded whatever
 * the file's size. A malformed structure ends the walk with what was found so far. Pure: the
 * caller supplies the bytes and applies the patches (`patchStream`).
 */
import { inflateSync } from 'node:zlib';
import { memorySource, tiffGpsPatches, type ByteSource, type Patch } from './gps-tiff';
import { heifPatches } from './gps-heif';
import { xmpGpsPatches, xmpHasGps } from './gps-xmp';

export { memorySource, type ByteSource, type Patch } from './gps-tiff';

/** Content types whose files can carry EXIF location. */
export const LOCATION_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/heif', 'image/heic', 'image/tiff']);

/** Caps on what is held in memory at once (one JPEG segment is at most 64 KiB anyway). */
const MAX_CHUNK = 16 * 1024 * 1024;
const MAX_WALK = 1_000_000;

const XMP_APP1 = 'http://ns.adobe.com/xap/1.0/\0';
const PNG_XMP_KEYWORD = 'XML:com.adobe.xmp';
/** An unknown ancillary PNG chunk type: decoders skip it (a compressed XMP packet with GPS becomes this, zeroed). */
const PNG_DROPPED = 'xmRm';

const ascii = (b: Uint8Array, at: number, n: number) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', at, at + n);
const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);
const be16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at);

/** The patches that remove location from a file of this content type (none when it has none). */
export async function gpsPatches(src: ByteSource, contentType: string): Promise<Patch[]> {
  switch (contentType) {
    case 'image/jpeg': return jpegPatches(src);
    case 'image/png': return pngPatches(src);
    case 'image/webp': return webpPatches(src);
    case 'image/tiff': return tiffGpsPatches(src, 0, src.size);
    case 'image/avif': case 'image/heif': case 'image/heic': return heifPatches(src);
    default: return [];
  }
}

/** TIFF inside an EXIF payload that may start with the `Exif\0\0` marker. */
async function exifPayload(src: ByteSource, at: number, length: number): Promise<Patch[]> {
  const head = await src.read(at, 6);
  const skip = head.byteLength === 6 && ascii(head, 0, 6) === 'Exif\0\0' ? 6 : 0;
  return tiffGpsPatches(src, at + skip, length - skip);
}

/** JPEG: every APP1 `Exif` segment before the scan. */
async function jpegPatches(src: ByteSource): Promise<Patch[]> {
  const out: Patch[] = [];
  let pos = 2;
  for (let n = 0; n < MAX_WALK && pos + 4 <= src.size; n++) {
    const h = await src.read(pos, 4);
    if (h.byteLength < 4 || h[0] !== 0xff) break;
    const marker = h[1] as number;
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { pos += 2; continue; }
    const len = be16(h, 2);
    if (len < 2) break;
    if (marker === 0xe1) {
      const head = await src.read(pos + 4, XMP_APP1.length);
      if (ascii(head, 0, head.byteLength) === XMP_APP1) {
        const at = pos + 4 + XMP_APP1.length;
        out.push(...xmpGpsPatches(await src.read(at, len - 2 - XMP_APP1.length), at));
      } else out.push(...await exifPayload(src, pos + 4, len - 2));
    }
    pos += 2 + len;
  }
  return out;
}

/** PNG: the `eXIf` chunk, wherever it is, with its CRC recomputed over the patched data. */
async function pngPatches(src: ByteSource): Promise<Patch[]> {
  const out: Patch[] = [];
  let pos = 8;
  for (let n = 0; n < MAX_WALK && pos + 12 <= src.size; n++) {
    const h = await src.read(pos, 8);
    if (h.byteLength < 8) break;
    const len = be32(h, 0);
    const type = ascii(h, 4, 4);
    if (type === 'IEND') break;
    if ((type === 'eXIf' || type === 'iTXt' || type === 'zTXt' || type === 'tEXt') && len <= MAX_CHUNK) {
      const data = new Uint8Array(await src.read(pos + 8, len));
      const patches = type === 'eXIf' ? await exifPayload(memorySource(data, pos + 8), pos + 8, len) : pngXmpPatches(type, data, pos);
      if (patches.length) {
        const chunk = new Uint8Array(4 + len); // type and data, as the CRC covers them
        chunk.set(h.subarray(4, 8), 0);
        chunk.set(data, 4);
        for (const p of patches) if (p.offset >= pos + 4) chunk.set(p.bytes, p.offset - pos - 4);
        const crc = new Uint8Array(4);
        new DataView(crc.buffer).setUint32(0, crc32(chunk));
        out.push(...patches, { offset: pos + 8 + len, bytes: crc });
      }
    }
    pos += 12 + len;
  }
  return out;
}

/**
 * A PNG text chunk (`tEXt`, `zTXt`, `iTXt`; data at `pos + 8`) holding XMP: blanked in place when
 * stored as text; when compressed (libvips writes `zTXt`) and naming GPS, dropped whole, since
 * recompressing would change its length: the type becomes an unknown ancillary one, the data zeros.
 */
function pngXmpPatches(type: string, data: Uint8Array, pos: number): Patch[] {
  const kw = data.indexOf(0);
  if (kw < 0 || kw > 79 || ascii(data, 0, kw) !== PNG_XMP_KEYWORD) return [];
  let compressed = type === 'zTXt';
  let textAt = kw + (compressed ? 2 : 1); // zTXt: keyword\0 method data; tEXt: keyword\0 text
  if (type === 'iTXt') { // keyword\0 flag method language\0 translated keyword\0 text
    compressed = data[kw + 1] === 1;
    const lang = data.indexOf(0, kw + 3);
    const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if (translated < 0) return [];
    textAt = translated + 1;
  }
  if (textAt > data.byteLength) return [];
  const text = data.subarray(textAt);
  if (!compressed) return xmpGpsPatches(text, pos + 8 + textAt);
  let xmp: Uint8Array;
  try {
    xmp = inflateSync(text, { maxOutputLength: MAX_CHUNK });
  } catch {
    return [];
  }
  if (!xmpHasGps(xmp)) return [];
  return [{ offset: pos + 4, bytes: Buffer.from(PNG_DROPPED, 'ascii') }, { offset: pos + 8, bytes: new Uint8Array(data.byteLength) }];
}

/** WebP: the `EXIF` chunk of an extended (VP8X) file. */
async function webpPatches(src: ByteSource): Promise<Patch[]> {
  const out: Patch[] = [];
  const riff = await src.read(0, 12);
  if (riff.byteLength < 12 || ascii(riff, 0, 4) !== 'RIFF' || ascii(riff, 8, 4) !== 'WEBP') return out;
  const end = Math.min(src.size, 8 + Buffer.from(riff).readUInt32LE(4));
  let pos = 12;
  for (let n = 0; n < MAX_WALK && pos + 8 <= end; n++) {
    const h = await src.read(pos, 8);
    if (h.byteLength < 8) break;
    const len = Buffer.from(h).readUInt32LE(4);
    const size = Math.min(len, end - pos - 8);
    if (ascii(h, 0, 4) === 'EXIF') out.push(...await exifPayload(src, pos + 8, size));
    if (ascii(h, 0, 4) === 'XMP ' && size <= MAX_CHUNK) out.push(...xmpGpsPatches(await src.read(pos + 8, size), pos + 8));
    pos += 8 + len + (len & 1);
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = (CRC_TABLE[(c ^ x) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A stream of `body` with `patches` written over it (absolute offsets); other bytes pass through untouched. */
export function patchStream(body: ReadableStream<Uint8Array>, patches: readonly Patch[]): ReadableStream<Uint8Array> {
  let pos = 0;
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      const end = pos + chunk.byteLength;
      let out = chunk;
      for (const p of patches) {
        const from = Math.max(p.offset, pos);
        const to = Math.min(p.offset + p.bytes.byteLength, end);
        if (from >= to) continue;
        if (out === chunk) out = new Uint8Array(chunk); // a copy: never write into the source's buffer (Buffer#slice would share it)
        out.set(p.bytes.subarray(from - p.offset, to - p.offset), from - pos);
      }
      pos = end;
      ctl.enqueue(out);
    },
  }));
}
