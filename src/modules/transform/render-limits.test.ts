/**
 * The render keeps the output limits and its deadline (#17.1, #17.2), with real sharp: the
 * size after `e_trim` is checked before the resize runs, a rotated render has exactly the
 * planned final size, the trim's own raw frame is bounded, and a render past its deadline (or
 * abandoned by the pool) stops with 503 `OVERLOADED` instead of sharp's bare timeout error.
 */
import { describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { flat, quadrants } from '../../../test/helpers/images';
import { AppError } from '../../errors';
import { planGeometry } from './geometry';
import { parseTransformation } from './parse';
import { renderImage, type RenderLimits } from './pipeline';
import { probeImage } from './probe';

const limits: RenderLimits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 15_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };

async function render(input: Buffer, segment: string, l: RenderLimits = limits, signal?: AbortSignal) {
  const parsed = parseTransformation(segment, undefined, l, new Map());
  const probed = await probeImage(input, probeLimits);
  return renderImage(input, probed, parsed.options, parsed.options.f ?? 'png', l, undefined, signal);
}

/** The AppError a render rejects with (a bare Error fails the test: it would be a 500). */
async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw new Error(`not an AppError (would answer 500): ${String(err)}`);
  }
  throw new Error('the render succeeded');
}

/** A white 600×200 image with one black 20×200 band: `e_trim` leaves a 20×200 strip. */
const strip = () => flat(600, 200, [255, 255, 255])
  .composite([{ input: { create: { width: 20, height: 200, channels: 3, background: '#000' } }, left: 290, top: 0 }])
  .png().toBuffer();

describe('the limits hold after e_trim', () => {
  test('a one-sided resize of the trimmed strip is checked on the trimmed size (it rendered 1000×10000)', async () => {
    const err = await refusal(render(await strip(), 'e_trim,w_1000,c_fit'));
    expect(err.code).toBe('INVALID_TRANSFORMATION');
    expect(err.details).toMatchObject({ parameter: 'w', value: '1000x10000' });
  });

  test('within the limits the trimmed strip renders at its planned size', async () => {
    const out = await render(await strip(), 'e_trim,w_100,c_fit');
    expect([out.width, out.height]).toEqual([100, 1000]);
  });

  test('c_crop is applied before the trim, as documented, and the trim input is bounded', async () => {
    // The crop keeps the band's left half plus white: trimming leaves the 10×200 black part.
    const cropped = await render(await strip(), 'c_crop,w_300,h_200,g_west,e_trim');
    expect([cropped.width, cropped.height]).toEqual([10, 200]);
    const small = { ...limits, maxOutputPixels: 100_000 };
    const err = await refusal(render(await strip(), 'e_trim,w_100', small));
    expect(err.details).toMatchObject({ parameter: 'e', value: '600x200' });
  });

  test('an image libvips cannot trim (under 3×3) is a 400, not a 500', async () => {
    const err = await refusal(render(await flat(2, 2, [10, 200, 10]).png().toBuffer(), 'e_trim'));
    expect([err.status, err.code]).toEqual([400, 'INVALID_TRANSFORMATION']);
  });
});

describe('rotation renders at the planned final size', () => {
  test('any angle after any resize or crop, with rounded corners and pixelation (a_90 of 120×80 c_fill was 80×80)', async () => {
    const input = await quadrants(300, 200).png().toBuffer();
    for (const segment of ['a_33,w_310,h_190,c_scale', 'a_45,r_max,e_pixelate:4,w_250,h_250,c_fill', 'a_180,r_20,w_120,h_80,c_fill',
      'a_90,r_20,w_120,h_80,c_fill', 'a_270,w_300,h_100,c_pad', 'a_90,c_crop,w_100,h_60,g_north_west', 'a_270,w_90,c_fit']) {
      const parsed = parseTransformation(segment, undefined, limits, new Map());
      const plan = planGeometry({ width: 300, height: 200 }, parsed.options, limits);
      const out = await render(input, segment);
      expect([out.width, out.height]).toEqual([plan.final.width, plan.final.height]);
    }
  });
});

describe('the deadline stops the render', () => {
  test('a render abandoned by the pool starts no stage and answers 503 OVERLOADED', async () => {
    const abandoned = new AbortController();
    abandoned.abort();
    const err = await refusal(render(await quadrants(200, 200).png().toBuffer(), 'w_100', limits, abandoned.signal));
    expect([err.status, err.code]).toEqual([503, 'OVERLOADED']);
  });

  test("sharp's timeout inside a stage becomes 503 OVERLOADED, not a bare error", async () => {
    // A 3000×3000 noise image blurred with sigma 100, rotated, pixelated and rounded: far
    // more than one second of libvips work on any machine.
    const noise = Buffer.alloc(3000 * 3000 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const input = await sharp(noise, { raw: { width: 3000, height: 3000, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    const err = await refusal(render(input, 'e_blur:2000.pixelate:2,a_30,r_max,w_4000,h_4000,c_scale', { ...limits, timeoutMs: 500 }));
    expect([err.status, err.code]).toEqual([503, 'OVERLOADED']);
  }, 60_000);
});
