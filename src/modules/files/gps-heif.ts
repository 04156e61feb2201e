/**
 * HEIF/AVIF (ISOBMFF): the `Exif` item and an XMP `mime` item, found through `meta` → `iinf`
 * and `iloc` (file or `idat` offsets), blanked in place like every other container (gps.ts).
 */
import { memorySource, tiffGpsPatches, type ByteSource, type Patch } from './gps-tiff';
import { xmpGpsPatches } from './gps-xmp';

const MAX_META_BOX = 16 * 1024 * 1024;
const MAX_ITEM = 16 * 1024 * 1024;
const MAX_WALK = 1_000_000;

const ascii = (b: Uint8Array, at: number, n: number) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', at, at + n);
const be32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at);
const be16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at);

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

/** HEIF/AVIF: the `Exif` item (and an XMP `mime` item) located through `meta` → `iinf` and `iloc` (file or `idat` offsets). */
export async function heifPatches(src: ByteSource): Promise<Patch[]> {
  let meta: { start: number; end: number } | undefined;
  for await (const b of boxes(src, 0, src.size)) if (b.type === 'meta') { meta = b; break; }
  if (!meta || meta.end - meta.start > MAX_META_BOX) return [];
  const bytes = await src.read(meta.start, meta.end - meta.start);
  const m = memorySource(bytes, meta.start);
  const kinds = new Map<number, 'exif' | 'xmp'>();
  let iloc: { start: number; end: number } | undefined;
  let idat: { start: number; end: number } | undefined;
  for await (const b of boxes(m, meta.start + 4, meta.end)) { // `meta` is a full box: 4 bytes version/flags
    if (b.type === 'iinf') for (const [id, kind] of await metadataItems(m, b)) kinds.set(id, kind);
    else if (b.type === 'iloc') iloc = b;
    else if (b.type === 'idat') idat = b;
  }
  if (!kinds.size || !iloc) return [];
  const out: Patch[] = [];
  for (const item of parseIloc(await m.read(iloc.start, iloc.end - iloc.start))) {
    const kind = kinds.get(item.id);
    if (!kind || item.extents.length !== 1) continue; // split metadata items do not occur in practice
    const ext = item.extents[0] as { offset: number; length: number };
    const at = (item.method === 1 ? (idat?.start ?? NaN) : 0) + item.base + ext.offset;
    if (!Number.isFinite(at)) continue;
    if (kind === 'xmp') {
      if (ext.length <= MAX_ITEM) out.push(...xmpGpsPatches(await src.read(at, ext.length), at));
      continue;
    }
    const lead = await src.read(at, 4);
    if (lead.byteLength < 4) continue;
    const skip = 4 + be32(lead, 0); // exif_tiff_header_offset, then the TIFF header
    out.push(...await tiffGpsPatches(src, at + skip, ext.length - skip));
  }
  return out;
}

/** Item ids of the `Exif` items and of `mime` items of type `application/rdf+xml` (XMP). */
async function metadataItems(m: ByteSource, iinf: { start: number; end: number }): Promise<[number, 'exif' | 'xmp'][]> {
  const h = await m.read(iinf.start, 8);
  const first = iinf.start + 4 + (h[0] === 0 ? 2 : 4);
  const ids: [number, 'exif' | 'xmp'][] = [];
  for await (const infe of boxes(m, first, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const e = await m.read(infe.start, infe.end - infe.start);
    const version = e[0] as number;
    if (version < 2 || e.byteLength < 12) continue;
    const idSize = version === 2 ? 2 : 4;
    const id = idSize === 2 ? be16(e, 4) : be32(e, 4);
    const typeAt = 4 + idSize + 2;
    const type = ascii(e, typeAt, 4);
    if (type === 'Exif') ids.push([id, 'exif']);
    if (type === 'mime') {
      // item_name\0 content_type\0
      const nameEnd = e.indexOf(0, typeAt + 4);
      const typeEnd = nameEnd < 0 ? -1 : e.indexOf(0, nameEnd + 1);
      if (typeEnd > 0 && ascii(e, nameEnd + 1, typeEnd - nameEnd - 1) === 'application/rdf+xml') ids.push([id, 'xmp']);
    }
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
