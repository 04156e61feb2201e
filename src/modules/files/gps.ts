/**
 * Finds where a photo keeps its location and returns the in-place patches that blank it
 * (gps-tiff.ts), for JPEG, PNG, WebP, HEIF/AVIF and TIFF. Only the container structure is read,
 * through random access (a few small reads for most photos), so memory stays bounded whatever
 * the file's size. A malformed structure ends the walk with what was found so far. Pure: the
 * caller supplies the bytes and applies the patches (`patchStream`).
 */
import { tiffGpsPatches, type ByteSource, type Patch } from './gps-tiff';

export type { ByteSource, Patch } from './gps-tiff';

/** Content types whose files can carry EXIF location. */
export const LOCATION_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/heif', 'image/heic', 'image/tiff']);

/** Caps on what is held in memory at once (one JPEG segment is at most 64 KiB anyway). */
const MAX_CHUNK = 16 * 1024 * 1024;
const MAX_META_BOX = 16 * 1024 * 1024;
const MAX_WALK = 1_000_000;

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);
const be16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at);

/** A `ByteSource` over bytes already in memory, placed at absolute offset `base`. */
export function memorySource(bytes: Uint8Array, base = 0): ByteSource {
  return {
    size: base + bytes.byteLength,
    read: async (offset, length) => bytes.subarray(Math.max(0, offset - base), Math.max(0, offset - base + length)),
  };
}

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
    if (marker === 0xe1) out.push(...await exifPayload(src, pos + 4, len - 2));
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
    if (type === 'eXIf' && len <= MAX_CHUNK) {
      const data = new Uint8Array(await src.read(pos + 8, len));
      const patches = await exifPayload(memorySource(data, pos + 8), pos + 8, len);
      if (patches.length) {
        for (const p of patches) data.set(p.bytes, p.offset - pos - 8);
        const crc = new Uint8Array(4);
        new DataView(crc.buffer).setUint32(0, crc32(Buffer.concat([Buffer.from('eXIf', 'ascii'), data])));
        out.push(...patches, { offset: pos + 8 + len, bytes: crc });
      }
    }
    pos += 12 + len;
  }
  return out;
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
    if (ascii(h, 0, 4) === 'EXIF') out.push(...await exifPayload(src, pos + 8, Math.min(len, end - pos - 8)));
    pos += 8 + len + (len & 1);
  }
  return out;
}

/** ISOBMFF boxes inside `[from, to)`: type, payload start (after size/type) and end. */
async function* boxes(src: ByteSource, from: number, to: number): AsyncGenerator<{ type: string; start: number; end: number }> {
  let pos = from;
  for (let n = 0; n < MAX_WALK && pos + 8 <= to; n++) {
    const h = await src.read(pos, 16);
    if (h.byteLength < 8) return;
    let size = be32(h, 0);
    let header = 8;
    if (size === 1) {
      if (h.byteLength < 16) return;
      size = be32(h, 8) * 2 ** 32 + be32(h, 12);
      header = 16;
    } else if (size === 0) size = to - pos;
    if (size < header) return;
    yield { type: ascii(h, 4, 4), start: pos + header, end: Math.min(pos + size, to) };
    pos += size;
  }
}

/** HEIF/AVIF: the `Exif` item located through `meta` → `iinf` and `iloc` (file or `idat` offsets). */
async function heifPatches(src: ByteSource): Promise<Patch[]> {
  let meta: { start: number; end: number } | undefined;
  for await (const b of boxes(src, 0, src.size)) if (b.type === 'meta') { meta = b; break; }
  if (!meta || meta.end - meta.start > MAX_META_BOX) return [];
  const bytes = await src.read(meta.start, meta.end - meta.start);
  const m = memorySource(bytes, meta.start);
  const exifIds = new Set<number>();
  let iloc: { start: number; end: number } | undefined;
  let idat: { start: number; end: number } | undefined;
  for await (const b of boxes(m, meta.start + 4, meta.end)) { // `meta` is a full box: 4 bytes version/flags
    if (b.type === 'iinf') for (const id of await exifItems(m, b)) exifIds.add(id);
    else if (b.type === 'iloc') iloc = b;
    else if (b.type === 'idat') idat = b;
  }
  if (!exifIds.size || !iloc) return [];
  const out: Patch[] = [];
  for (const item of parseIloc(await m.read(iloc.start, iloc.end - iloc.start))) {
    if (!exifIds.has(item.id) || item.extents.length !== 1) continue; // split Exif items do not occur in practice
    const ext = item.extents[0] as { offset: number; length: number };
    const at = (item.method === 1 ? (idat?.start ?? NaN) : 0) + item.base + ext.offset;
    if (!Number.isFinite(at)) continue;
    const lead = await src.read(at, 4);
    if (lead.byteLength < 4) continue;
    const skip = 4 + be32(lead, 0); // exif_tiff_header_offset, then the TIFF header
    out.push(...await tiffGpsPatches(src, at + skip, ext.length - skip));
  }
  return out;
}

async function exifItems(m: ByteSource, iinf: { start: number; end: number }): Promise<number[]> {
  const h = await m.read(iinf.start, 8);
  const first = iinf.start + 4 + (h[0] === 0 ? 2 : 4);
  const ids: number[] = [];
  for await (const infe of boxes(m, first, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const e = await m.read(infe.start, 16);
    const version = e[0] as number;
    if (version < 2) continue;
    const idSize = version === 2 ? 2 : 4;
    const id = idSize === 2 ? be16(e, 4) : be32(e, 4);
    if (ascii(e, 4 + idSize + 2, 4) === 'Exif') ids.push(id);
  }
  return ids;
}

interface IlocItem { id: number; method: number; base: number; extents: { offset: number; length: number }[] }

/** The `iloc` box payload (after its header), versions 0–2. */
function parseIloc(b: Uint8Array): IlocItem[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = b[0] as number;
  const offSize = (b[4] as number) >> 4;
  const lenSize = (b[4] as number) & 15;
  const baseSize = (b[5] as number) >> 4;
  const idxSize = version >= 1 ? (b[5] as number) & 15 : 0;
  let p = 6;
  const num = (size: number) => {
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + v.getUint8(p + i);
    p += size;
    return n;
  };
  const items: IlocItem[] = [];
  try {
    const count = num(version < 2 ? 2 : 4);
    for (let i = 0; i < count; i++) {
      const id = num(version < 2 ? 2 : 4);
      const method = version >= 1 ? num(2) & 15 : 0;
      num(2); // data_reference_index
      const base = num(baseSize);
      const extents = Array.from({ length: num(2) }, () => {
        num(idxSize);
        return { offset: num(offSize), length: num(lenSize) };
      });
      items.push({ id, method, base, extents });
    }
  } catch { /* truncated: keep what was read */ }
  return items;
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
