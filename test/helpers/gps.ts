/**
 * Photos that carry a GPS location, in every container that can hold EXIF, and readers that
 * tell what location a file still carries: parsed (exif-reader) and raw (the latitude's
 * encoded rationals anywhere in the bytes, whatever the parser thinks).
 */
import exifReader from 'exif-reader';
import sharp from 'sharp';

export const GPS_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'tiff'] as const;
export type GpsFormat = (typeof GPS_FORMATS)[number];
export const CONTENT_TYPE: Record<GpsFormat, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', tiff: 'image/tiff',
};

const LAT = [[48, 1], [51, 1], [2964, 100]] as const;
const LON = [[2, 1], [17, 1], [4008, 100]] as const;
const CAMERA = { Make: 'PictorCam', Model: 'GPS-1' };
/** XMP with GPS as attributes and as an element, next to a property that must survive. */
const XMP = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
  + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
  + 'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
  + 'exif:GPSLatitude="48,51.494N" exif:GPSLongitude="2,17.668E"><exif:GPSAltitude>35/1</exif:GPSAltitude>'
  + '<dc:creator><rdf:Seq><rdf:li>Ann Example</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';

/**
 * A small photo of `format` whose EXIF has camera tags and a GPS position (48°51'29.64"N
 * 2°17'40.08"E), and whose XMP has the position too, next to a creator.
 */
export async function photoWithGps(format: GpsFormat, width = 24, height = 16): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: '#7a5230' } }).withXmp(XMP);
  // libvips writes no EXIF into TIFF, so the TIFF gets its GPS directory added by hand.
  if (format === 'tiff') return addGpsToTiff(await img.tiff().toBuffer());
  const rat = (r: readonly (readonly [number, number])[]) => r.map(([n, d]) => `${n}/${d}`).join(' ');
  return img.withExif({
    IFD0: CAMERA,
    IFD3: { GPSLatitudeRef: 'N', GPSLatitude: rat(LAT), GPSLongitudeRef: 'E', GPSLongitude: rat(LON) },
  }).toFormat(format).toBuffer();
}

/** The EXIF of a file as exif-reader parses it (TIFF files are EXIF themselves). */
export async function exifOf(bytes: Buffer, format: GpsFormat): Promise<ReturnType<typeof exifReader> | null> {
  if (format === 'tiff') return exifReader(bytes);
  const { exif } = await sharp(bytes).metadata();
  return exif ? exifReader(exif) : null;
}

/** The XMP packet as sharp reads it, or null. */
export async function xmpOf(bytes: Buffer): Promise<string | null> {
  return (await sharp(bytes).metadata()).xmp?.toString('utf8') ?? null;
}

/** True when the latitude's rationals (as written, either byte order) occur anywhere in `bytes`. */
export function hasRawLatitude(bytes: Buffer): boolean {
  for (const le of [true, false]) {
    const b = Buffer.alloc(24);
    LAT.forEach(([n, d], i) => {
      if (le) { b.writeUInt32LE(n, i * 8); b.writeUInt32LE(d, i * 8 + 4); } else { b.writeUInt32BE(n, i * 8); b.writeUInt32BE(d, i * 8 + 4); }
    });
    if (bytes.includes(b)) return true;
  }
  return false;
}

/** Adds Make/Model and a GPS IFD to a little-endian TIFF by appending a new IFD0 that points at it. */
function addGpsToTiff(tiff: Buffer): Buffer {
  if (tiff.toString('ascii', 0, 2) !== 'II') throw new Error('expected a little-endian TIFF');
  const ifd0 = tiff.readUInt32LE(4);
  const count = tiff.readUInt16LE(ifd0);
  const next = tiff.readUInt32LE(ifd0 + 2 + count * 12);
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) entries.push(Buffer.from(tiff.subarray(ifd0 + 2 + i * 12, ifd0 + 14 + i * 12)));
  const parts: Buffer[] = [tiff];
  let end = tiff.length + (tiff.length & 1);
  if (tiff.length & 1) parts.push(Buffer.alloc(1));
  const data = (b: Buffer) => {
    const at = end;
    parts.push(b);
    end += b.length;
    if (b.length & 1) { parts.push(Buffer.alloc(1)); end++; }
    return at;
  };
  const entry = (tag: number, type: number, n: number, value: number | Buffer) => {
    const e = Buffer.alloc(12);
    e.writeUInt16LE(tag, 0);
    e.writeUInt16LE(type, 2);
    e.writeUInt32LE(n, 4);
    if (typeof value === 'number') e.writeUInt32LE(value, 8); else value.copy(e, 8);
    return e;
  };
  const rationals = (r: readonly (readonly [number, number])[]) => {
    const b = Buffer.alloc(r.length * 8);
    r.forEach(([n, d], i) => { b.writeUInt32LE(n, i * 8); b.writeUInt32LE(d, i * 8 + 4); });
    return data(b);
  };
  const make = data(Buffer.from(`${CAMERA.Make}\0`));
  const model = data(Buffer.from(`${CAMERA.Model}\0`));
  const lat = rationals(LAT);
  const lon = rationals(LON);
  const gpsEntries = [
    entry(0, 1, 4, Buffer.from([2, 3, 0, 0])), entry(1, 2, 2, Buffer.from('N\0')), entry(2, 5, 3, lat),
    entry(3, 2, 2, Buffer.from('E\0')), entry(4, 5, 3, lon),
  ];
  const ifd = (list: Buffer[], nextIfd: number) => {
    const b = Buffer.alloc(2 + list.length * 12 + 4);
    b.writeUInt16LE(list.length, 0);
    list.forEach((e, i) => e.copy(b, 2 + i * 12));
    b.writeUInt32LE(nextIfd, 2 + list.length * 12);
    return data(b);
  };
  const gps = ifd(gpsEntries, 0);
  const all = [...entries, entry(0x010f, 2, CAMERA.Make.length + 1, make), entry(0x0110, 2, CAMERA.Model.length + 1, model), entry(0x8825, 4, 1, gps)]
    .sort((a, b) => a.readUInt16LE(0) - b.readUInt16LE(0));
  const newIfd0 = ifd(all, next);
  const out = Buffer.concat(parts);
  out.writeUInt32LE(newIfd0, 4);
  return out;
}
