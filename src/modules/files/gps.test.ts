/**
 * The GPS remover on real files of every container sharp (or a hand-built TIFF) can write:
 * the location is gone by exif-reader and from the raw bytes, every other tag and every pixel
 * is kept, and the size is unchanged (blanked in place). Files without GPS need no patch.
 */
import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { CONTENT_TYPE, exifOf, GPS_FORMATS, hasRawLatitude, photoWithGps } from '../../../test/helpers/gps';
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
    // A second pass finds nothing more to remove.
    expect(await gpsPatches(memorySource(stripped), CONTENT_TYPE[format])).toEqual([]);
  });

  test('a photo without GPS needs no patch', async () => {
    const img = sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } });
    const plain = format === 'tiff' ? await img.tiff().toBuffer() : await img.withExif({ IFD0: { Make: 'NoGps' } }).toFormat(format).toBuffer();
    expect(await gpsPatches(memorySource(plain), CONTENT_TYPE[format])).toEqual([]);
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

  test('types that carry no EXIF are left alone', async () => {
    const jpeg = await photoWithGps('jpeg');
    expect(await gpsPatches(memorySource(jpeg), 'application/pdf')).toEqual([]);
  });
});
