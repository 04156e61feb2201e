/**
 * HEVC-coded HEIC made on the spot (no binary fixtures in the repo), as phones write them: an
 * HEVC frame from the bundled ffmpeg (libx265), wrapped in the HEIF boxes by hand (ffmpeg cannot
 * write HEIF): `ftyp heic`, a `meta` naming one `hvc1` item with its `hvcC` decoder
 * configuration, size (`ispe`) and, optionally, a colour profile (`colr prof`), then `mdat`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FFMPEG } from './videos';

const run = promisify(execFile);

/** One frame of `rgb` (e.g. `0xc86432`), or of the picture at `from`, `width`×`height`, as HEVC (Annex B). */
async function hevcFrame(width: number, height: number, rgb: number, from?: string, crf = 28): Promise<Buffer> {
  const colour = `0x${rgb.toString(16).padStart(6, '0')}`;
  const input = from ? ['-i', from, '-vf', `scale=${width}:${height}`] : ['-f', 'lavfi', '-i', `color=c=${colour}:size=${width}x${height}:rate=1`];
  const { stdout } = await run(FFMPEG, [
    '-hide_banner', '-v', 'error', ...input, '-frames:v', '1',
    '-c:v', 'libx265', '-crf', String(crf), '-x265-params', 'log-level=error:info=0', '-pix_fmt', 'yuv420p', '-f', 'hevc', 'pipe:1',
  ], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Annex B NAL units, without their start codes. */
function nalUnits(stream: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = stream.indexOf(Buffer.from([0, 0, 1])); i >= 0; i = stream.indexOf(Buffer.from([0, 0, 1]), i + 3)) starts.push(i + 3);
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : stream.length;
    while (end > s && stream[end - 1] === 0) end--;
    return stream.subarray(s, end);
  });
}

const nalType = (n: Buffer) => (n[0]! >> 1) & 0x3f;
/** Without emulation-prevention bytes (`00 00 03`), to read the SPS's fields. */
function unescape(n: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const b of n) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; };
const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const box = (type: string, ...parts: Buffer[]) => { const body = Buffer.concat(parts); return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'latin1'), body]); };
const fullBox = (type: string, version: number, ...parts: Buffer[]) => box(type, u32(version << 24), ...parts);

interface Picture {
  width: number;
  height: number;
  rgb: number;
  from?: string;
  crf?: number;
}

/** One picture as an `hvc1` item's parts: its HEVC data (length-prefixed NAL units) and properties. */
async function hvc1Item(o: Picture & { icc?: Buffer }): Promise<{ data: Buffer; properties: Buffer[] }> {
  const nals = nalUnits(await hevcFrame(o.width, o.height, o.rgb, o.from, o.crf));
  const [vps, sps, pps] = [32, 33, 34].map((t) => nals.find((n) => nalType(n) === t)!);
  const slices = nals.filter((n) => nalType(n) < 32);
  const ptl = unescape(sps!).subarray(3, 15); // profile_tier_level: space/tier/profile, 32 compatibility flags, 48 constraint flags, level
  const hvcC = Buffer.concat([
    Buffer.from([1]), ptl, u16(0xf000), Buffer.from([0xfc, 0xfd, 0xf8, 0xf8]), u16(0), Buffer.from([0x0f, 3]),
    ...[vps!, sps!, pps!].map((n) => Buffer.concat([Buffer.from([0x80 | nalType(n)]), u16(1), u16(n.length), n])),
  ]);
  const data = Buffer.concat(slices.flatMap((n) => [u32(n.length), n]));
  return { data, properties: [box('hvcC', hvcC), fullBox('ispe', 0, u32(o.width), u32(o.height)), ...(o.icc ? [box('colr', Buffer.from('prof', 'latin1'), o.icc)] : [])] };
}

/**
 * An HEVC-coded HEIC of one colour (or of the picture at `from`, at x265's `crf`: 28 by default,
 * about 20 for a phone's file size); `icc`: a colour profile it carries (`colr`, type `prof`).
 * `before`: another picture stored ahead of it, as item 1, while the photo (item 2) stays the
 * primary one (`pitm`), as in a file whose first image is not the photo.
 */
export async function hevcHeic(o: Picture & { icc?: Buffer; before?: Picture }): Promise<Buffer> {
  const items = [...(o.before ? [await hvc1Item(o.before)] : []), await hvc1Item(o)];
  const ids = items.map((_, i) => i + 1);
  const properties = items.flatMap((item) => item.properties);
  let first = 1; // each item's properties, numbered from 1 across the items
  const associations = items.map((item, i) => {
    const at = first;
    first += item.properties.length;
    return Buffer.concat([u16(ids[i]!), Buffer.from([item.properties.length, ...item.properties.map((_, k) => (k === 0 ? 0x80 : 0) | (at + k))])]);
  });
  const meta = (offset: number) => {
    let next = offset;
    const extents = items.map((item, i) => {
      const extent = Buffer.concat([u16(ids[i]!), u16(0), u16(1), u32(next), u32(item.data.length)]);
      next += item.data.length;
      return extent;
    });
    return fullBox('meta', 0,
      fullBox('hdlr', 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(13)),
      fullBox('pitm', 0, u16(ids.at(-1)!)),
      fullBox('iinf', 0, u16(items.length), ...ids.map((id) => fullBox('infe', 2, u16(id), u16(0), Buffer.from('hvc1\0', 'latin1')))),
      fullBox('iloc', 0, Buffer.from([0x44, 0x00]), u16(items.length), ...extents),
      box('iprp', box('ipco', ...properties), fullBox('ipma', 0, u32(items.length), ...associations)),
    );
  };
  const ftyp = box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1heic', 'latin1'));
  const offset = ftyp.length + meta(0).length + 8;
  return Buffer.concat([ftyp, meta(offset), box('mdat', ...items.map((item) => item.data))]);
}
