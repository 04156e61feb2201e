/**
 * The colour profile an HEVC photo's decoded pixels keep (heic.ts): written into the JPEG (APP2
 * `ICC_PROFILE`) or, for a photo with alpha, the PNG (`iCCP`) sharp reads them from.
 */
import { expect, test } from 'bun:test';
import sharp from 'sharp';
import { hevcHeic } from '../../../test/helpers/heic';
import { heicDecodeCount } from '../../platform/heic';
import { jpegWithProfile, pngWithProfile, readableImage } from './heic';

const p3 = async () => (await sharp(await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).withIccProfile('p3').png().toBuffer()).metadata()).icc!;
/** One pixel of Display P3 (200, 100, 50), as numbers with no profile yet. */
const pixel = () => sharp(Buffer.from([200, 100, 50, 255]), { raw: { width: 1, height: 1, channels: 4 } });
const shown = async (img: Buffer) => Array.from((await sharp(img).withIccProfile('srgb').raw().toBuffer()).subarray(0, 3));

test('the JPEG and the PNG carry the profile whole, and read in its colours', async () => {
  const icc = await p3();
  const jpeg = jpegWithProfile(await pixel().removeAlpha().jpeg({ quality: 100 }).toBuffer(), icc);
  const png = pngWithProfile(await pixel().png().toBuffer(), icc);
  for (const img of [jpeg, png]) {
    expect(Buffer.compare((await sharp(img).metadata()).icc!, icc)).toBe(0);
    const [r, g, b] = await shown(img);
    // Display P3 (200, 100, 50) is sRGB (217, 92, 32); without the profile it read as (200, 100, 50).
    expect([Math.abs(r! - 217) <= 3, Math.abs(g! - 92) <= 3, Math.abs(b! - 32) <= 3]).toEqual([true, true, true]);
  }
  expect((await sharp(png).metadata()).hasAlpha).toBe(true);
});

test('a photo\'s readers one after another (metadata, renders, info) share one decode, given its SHA-256', async () => {
  const heic = await hevcHeic({ width: 64, height: 48, rgb: 0x3060c0 });
  const o = { maxPixels: 1e8, timeoutMs: 60_000 };
  const before = heicDecodeCount();
  const [a, b] = await Promise.all([readableImage(heic, { ...o, sha256: 'a'.repeat(64) }), readableImage(heic, { ...o, sha256: 'a'.repeat(64) })]);
  const c = await readableImage(heic, { ...o, sha256: 'a'.repeat(64) });
  expect(heicDecodeCount() - before).toBe(1);
  expect([a === b, b === c, (await sharp(c).metadata()).format]).toEqual([true, true, 'jpeg']);
  // Without its hash (nothing to know it by), each call decodes.
  await readableImage(heic, o);
  await readableImage(heic, o);
  expect(heicDecodeCount() - before).toBe(3);
}, 60_000);
