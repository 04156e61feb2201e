/**
 * Location removal inside a TIFF structure (the layout of every EXIF block: JPEG APP1, PNG
 * eXIf, WebP EXIF, the HEIF Exif item, and TIFF files themselves), done in place so that no
 * other offset moves and the pixels are never touched:
 *
 * - the GPS IFD's entries and their out-of-line values are overwritten with zeros, and
 * - the GPSInfo pointer (tag 0x8825) is taken out of its IFD by shifting the later entries
 *   (and the next-IFD offset) up by one entry: the IFD stays sorted and valid, one entry shorter,
 *   followed by 12 unreferenced zero bytes.
 *
 * XMP packets held in an IFD (tag 700) lose their GPS properties too (gps-xmp.ts).
 *
 * Written here rather than taken from npm: the EXIF editors there (piexifjs, exifremove,
 * exif-be-gone) handle JPEG only and/or re-serialise or drop all metadata; none edits GPS alone
 * in all five containers without moving bytes.
 */

import { xmpGpsPatches } from './gps-xmp';

/** Bytes to write at an absolute offset of the object. */
export interface Patch {
  offset: number;
  bytes: Uint8Array;
}

/** Random access to (part of) an object: `read` may return fewer bytes at the end. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A `ByteSource` over bytes already in memory, placed at absolute offset `base`. */
export function memorySource(bytes: Uint8Array, base = 0): ByteSource {
  return {
    size: base + bytes.byteLength,
    read: async (offset, length) => bytes.subarray(Math.max(0, offset - base), Math.max(0, offset - base + length)),
  };
}

export const GPS_POINTER_TAG = 0x8825;
/** XMLPacket: an XMP packet inside the IFD (TIFF files). */
const XMP_TAG = 700;
const MAX_XMP = 16 * 1024 * 1024;
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
/** Enough for any real IFD chain (multi-page TIFFs included); bounds work on a crafted loop. */
const MAX_IFDS = 256;
const MAX_ENTRIES = 4096;

/** A TIFF structure seen through `src`, starting at `base` (absolute), `length` bytes long. */
export async function tiffGpsPatches(src: ByteSource, base: number, length: number): Promise<Patch[]> {
  const rd = async (off: number, len: number): Promise<DataView | null> => {
    if (off < 0 || len < 0 || off + len > length) return null;
    const b = await src.read(base + off, len);
    return b.byteLength < len ? null : new DataView(b.buffer, b.byteOffset, len);
  };
  const head = await rd(0, 8);
  if (!head) return [];
  const order = head.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) return [];
  const le = order === 0x4949;
  if (head.getUint16(2, le) !== 42) return []; // BigTIFF (43) is not handled: no EXIF container uses it
  const u16 = (v: DataView, o: number) => v.getUint16(o, le);
  const u32 = (v: DataView, o: number) => v.getUint32(o, le);

  const patches: Patch[] = [];
  const zero = (off: number, len: number) => {
    const end = Math.min(off + len, length);
    if (off >= 0 && end > off) patches.push({ offset: base + off, bytes: new Uint8Array(end - off) });
  };
  const seen = new Set<number>();
  let next = u32(head, 4);
  while (next !== 0 && !seen.has(next) && seen.size < MAX_IFDS) {
    seen.add(next);
    const countView = await rd(next, 2);
    if (!countView) break;
    const count = u16(countView, 0);
    if (count > MAX_ENTRIES) break;
    const ifd = await rd(next + 2, count * 12 + 4);
    if (!ifd) break;
    for (let i = 0; i < count; i++) {
      const n = u32(ifd, i * 12 + 4);
      if (u16(ifd, i * 12) !== XMP_TAG || n <= 4 || n > MAX_XMP) continue;
      const at = u32(ifd, i * 12 + 8);
      const xmp = await rd(at, n);
      if (xmp) patches.push(...xmpGpsPatches(new Uint8Array(xmp.buffer, xmp.byteOffset, n), base + at));
    }
    for (let i = 0; i < count; i++) {
      if (u16(ifd, i * 12) !== GPS_POINTER_TAG) continue;
      await blankGpsIfd(rd, u32(ifd, i * 12 + 8), le, zero);
      // Shift the later entries and the next-IFD offset up by one entry; zero the freed tail.
      const raw = new Uint8Array(ifd.buffer, ifd.byteOffset, ifd.byteLength);
      const rest = raw.slice((i + 1) * 12);
      const rewritten = new Uint8Array(raw.byteLength - i * 12);
      rewritten.set(rest, 0);
      patches.push({ offset: base + next + 2 + i * 12, bytes: rewritten });
      const newCount = new Uint8Array(2);
      new DataView(newCount.buffer).setUint16(0, count - 1, le);
      patches.push({ offset: base + next, bytes: newCount });
      break;
    }
    next = u32(ifd, count * 12);
  }
  return patches;
}

/** Zeroes a GPS IFD: its out-of-line values, then the directory itself. */
async function blankGpsIfd(
  rd: (off: number, len: number) => Promise<DataView | null>, at: number, le: boolean, zero: (off: number, len: number) => void,
): Promise<void> {
  const countView = await rd(at, 2);
  if (!countView) return;
  const count = Math.min(countView.getUint16(0, le), MAX_ENTRIES);
  const ifd = await rd(at + 2, count * 12);
  if (!ifd) return;
  for (let i = 0; i < count; i++) {
    const size = (TYPE_SIZES[ifd.getUint16(i * 12 + 2, le)] ?? 0) * ifd.getUint32(i * 12 + 4, le);
    if (size > 4) zero(ifd.getUint32(i * 12 + 8, le), size);
  }
  zero(at, 2 + count * 12 + 4);
}
