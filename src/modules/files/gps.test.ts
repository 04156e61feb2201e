/**
 * The GPS remover on real files of every container sharp (or a hand-built TIFF) can write:
 * the location is gone by exif-reader and from the raw bytes, every other tag and every pixel
 * is kept, and the size is unchanged (blanked in place). Files without GPS need no patch.
 */
import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { CONTENT_TYPE, exifOf, GPS_FORMATS, hasRawLatitude, photoWithGps, xmpOf } from '../../../test/helpers/gps';
import { gpsPatches, memorySource, patchStream, type Patch } from './gps';

async function apply(bytes: Buffer, patches: Patch[], chunk = 7): Promise<Buffer> {
  // Small chunks: patches must land right across chunk boundaries.
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let i = 0; i < bytes.length; i += chunk) ctl.enqueue(bytes.subarray(i, i + chunk));
      ctl.close();
    },
  });
  const out: Uint8Array[] = [];
  for await (const c of patchStream(body, patches)) out.push(c);
  return Buffer.concat(out);
}

const pixels = async (b: Buffer) => (await sharp(b).raw().toBuffer({ resolveWithObject: true })).data;

describe.each(GPS_FORMATS)('GPS removal from %s', (format) => {
  test('location gone (parsed and raw), camera tags, pixels and size kept, source untouched', async () => {
    const original = await photoWithGps(format);
    const copyOfOriginal = Buffer.from(original);
    const before = await exifOf(original, format);
    expect(before?.GPSInfo?.GPSLatitude).toEqual([48, 51, 29.64]);
    expect(hasRawLatitude(original)).toBe(true);
    expect(await xmpOf(original)).toContain('exif:GPSLatitude="48,51.494N"');

    const patches = await gpsPatches(memorySource(original), CONTENT_TYPE[format]);
    expect(patches.length).toBeGreaterThan(0);
    const stripped = await apply(original, patches);

    expect(original.equals(copyOfOriginal)).toBe(true);
    expect(stripped.length).toBe(original.length);
    expect(stripped.equals(original)).toBe(false);
    const after = await exifOf(stripped, format);
    expect(after?.GPSInfo).toBeUndefined();
    expect(hasRawLatitude(stripped)).toBe(false);
    expect(after?.Image?.Make).toBe('PictorCam');
    expect(after?.Image?.Model).toBe('GPS-1');
    expect((await pixels(stripped)).equals(await pixels(original))).toBe(true);
    // XMP: the GPS properties are gone; the rest stays, except from PNG, whose compressed packet is dropped whole.
    const xmp = await xmpOf(stripped);
    expect(stripped.includes('GPSLatitude')).toBe(false);
    if (format === 'png') expect(xmp).toBeNull();
    else {
      expect(xmp).not.toContain('GPS');
      expect(xmp).toContain('<rdf:li>Ann Example</rdf:li>');
    }
    // A second pass finds nothing more to remove.
    expect(await gpsPatches(memorySource(stripped), CONTENT_TYPE[format])).toEqual([]);
  });

  test('a photo without GPS needs no patch', async () => {
    const img = sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } });
    const plain = format === 'tiff' ? await img.tiff().toBuffer() : await img.withExif({ IFD0: { Make: 'NoGps' } }).toFormat(format).toBuffer();
    expect(await gpsPatches(memorySource(plain), CONTENT_TYPE[format])).toEqual([]);
  });
});

describe('GPS removal from XMP text', () => {
  test('attribute, element and empty-element forms become spaces; the packet keeps its length', async () => {
    const { xmpGpsPatches } = await import('./gps-xmp');
    const xmp = Buffer.from('<rdf:Description a="1"\n exif:GPSLatitude = \'48N\' exif:GPSLongitude="2E"><exif:GPSAltitude>35</exif:GPSAltitude>'
      + '<exif:GPSVersionID/><exif:GPSTimeStamp><rdf:Seq><rdf:li>1</rdf:li></rdf:Seq></exif:GPSTimeStamp><dc:title>Keep</dc:title></rdf:Description>');
    const out = Buffer.from(xmp);
    for (const p of xmpGpsPatches(xmp, 0)) out.set(p.bytes, p.offset);
    expect(out.length).toBe(xmp.length);
    expect(out.toString()).not.toContain('GPS');
    expect(out.toString().replace(/\s+/g, ' ')).toBe('<rdf:Description a="1" > <dc:title>Keep</dc:title></rdf:Description>');
  });
});

describe('GPS removal on damaged input', () => {
  test('truncated or garbage files end the walk without throwing', async () => {
    const jpeg = await photoWithGps('jpeg');
    for (const cut of [3, 20, 40, 100]) {
      await gpsPatches(memorySource(jpeg.subarray(0, cut)), 'image/jpeg');
    }
    for (const type of Object.values(CONTENT_TYPE)) {
      expect(await gpsPatches(memorySource(Buffer.from('not an image at all, just text')), type)).toEqual([]);
    }
  });

  test('damaged photos of every format (random bytes overwritten, cut short) never make the walk throw', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const format of GPS_FORMATS) {
      const photo = await photoWithGps(format);
      for (let round = 0; round < 300; round++) {
        const damaged = Buffer.from(photo.subarray(0, round % 3 === 0 ? Math.floor(random() * photo.length) : photo.length));
        for (let k = 0; k < 1 + (round % 8); k++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
        const patches = await gpsPatches(memorySource(damaged), CONTENT_TYPE[format]);
        for (const p of patches) expect(p.offset + p.bytes.byteLength).toBeLessThanOrEqual(damaged.length + 4096);
      }
    }
  });

  test('types that carry no EXIF are left alone', async () => {
    const jpeg = await photoWithGps('jpeg');
    expect(await gpsPatches(memorySource(jpeg), 'application/pdf')).toEqual([]);
  });
});
