/**
 * The output limits hold after every geometric step (#17.1, #17.2): the resize with its
 * padding, the rotation's bounding box, and an animation's frames summed are each checked
 * against MAX_DIMENSION / MAX_OUTPUT_PIXELS before a pixel is decoded.
 */
import { describe, expect, test } from 'bun:test';
import { AppError } from '../../errors';
import { planGeometry, rotatedSize } from './geometry';
import { parseTransformation } from './parse';

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxAnimationPixels: 100_000_000 };
const options = (segment: string) => parseTransformation(segment, undefined, limits, new Map()).options;

/** The 400 `planGeometry` throws for `segment` on a `width`×`height` source, or null when it plans. */
function refusal(width: number, height: number, segment: string, frames = 1): AppError | null {
  try {
    planGeometry({ width, height }, options(segment), limits, frames);
    return null;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return err;
  }
}

describe('every geometric step is checked against the output limits', () => {
  test('a_45 of an 8192×4880 scale is refused with its final size (it rendered 9243×9243)', () => {
    const err = refusal(3000, 2000, 'a_45,w_8192,h_4880,c_scale,f_png');
    expect(err?.code).toBe('INVALID_TRANSFORMATION');
    expect(err?.status).toBe(400);
    expect(err?.details).toMatchObject({ parameter: 'a', value: '9243x9243' });
    expect(err?.message).toContain('8192 px per side and 40000000 pixels');
    expect(err?.message).toContain('rotation by 45°');
  });

  test('the issue URL (a_45 of 6000×6000) is refused: the rotated box is 72 MP', () => {
    expect(refusal(4000, 3000, 'a_45,r_max,e_pixelate:2,w_6000,h_6000,c_scale')?.details).toMatchObject({ parameter: 'a', value: '8485x8485' });
  });

  test('the same rotation of a size whose bounding box fits is planned, final size included', () => {
    const plan = planGeometry({ width: 4000, height: 3000 }, options('a_45,w_4470,h_4470,c_scale'), limits);
    expect(plan.output).toEqual({ width: 4470, height: 4470 });
    expect(plan.final).toEqual({ width: 6322, height: 6322 });
  });

  test('right angles swap the sides: a_90 of 8192×100 fits, a_270 of 100×8192 too; a_20 of 8000×2000 does not', () => {
    expect(planGeometry({ width: 1000, height: 1000 }, options('a_90,w_8192,h_100,c_scale'), limits).final).toEqual({ width: 100, height: 8192 });
    expect(refusal(1000, 1000, 'a_270,w_100,h_8192,c_scale')).toBeNull();
    // 8000×2000 (16 MP) turned by 20° is 8202 px wide.
    expect(refusal(1000, 1000, 'a_20,w_8000,h_2000,c_scale')?.details).toMatchObject({ parameter: 'a', value: '8202x4616' });
  });

  test('padding counts: c_pad and c_lpad boxes that fit alone are refused once rotated', () => {
    expect(refusal(500, 500, 'w_6000,h_6000,c_pad')).toBeNull();
    expect(refusal(500, 500, 'w_6000,h_6000,c_pad,a_20')?.details).toMatchObject({ parameter: 'a' });
    expect(refusal(500, 500, 'w_6000,h_6000,c_lpad,a_20')?.details).toMatchObject({ parameter: 'a' });
  });

  test('a one-sided resize whose other side overflows is refused at the resize step', () => {
    // A 100×8000 strip to 6000 wide would be 6000×480000.
    expect(refusal(100, 8000, 'w_6000,c_fit')?.details).toMatchObject({ parameter: 'w', value: '6000x480000' });
    expect(refusal(100, 8000, 'w_6000,c_mfit,h_10')?.details).toMatchObject({ parameter: 'w' });
  });

  test('no size asked: a big source is scaled so that its rotated box fits, not just the source', () => {
    const plan = planGeometry({ width: 8000, height: 5000 }, options('a_45'), limits);
    expect(plan.final.width).toBeLessThanOrEqual(limits.maxDimension);
    expect(plan.final.height).toBeLessThanOrEqual(limits.maxDimension);
    expect(plan.final.width * plan.final.height).toBeLessThanOrEqual(limits.maxOutputPixels);
  });

  test('an animation counts its frames: 300 frames of 1000×1000 are over MAX_INPUT_PIXELS summed', () => {
    expect(refusal(100, 100, 'w_1000,h_1000,c_scale', 300)?.details).toMatchObject({ parameter: 'w', value: '1000x1000x300' });
    expect(refusal(100, 100, 'w_500,h_500,c_scale', 300)).toBeNull();
  });

  test('a fill whose crop is picked by content checks the cover it scores: 1×8192 from 100×10 would be 81920×8192 (1 GB, 15 s)', () => {
    for (const segment of ['c_fill,w_1,h_8192,g_auto', 'c_thumb,w_1,h_8192', 'c_fill,w_3,h_8192,g_entropy']) {
      const err = refusal(100, 10, segment);
      expect({ segment, parameter: err?.details?.parameter }).toEqual({ segment, parameter: 'g' });
      expect(err?.message).toContain('the scale before the g_');
    }
    // A compass gravity cuts before the pixels are made; lfill never enlarges; ordinary thumbnails plan.
    expect(refusal(100, 10, 'c_fill,w_1,h_8192,g_north')).toBeNull();
    expect(refusal(100, 10, 'c_lfill,w_1,h_8192,g_auto')).toBeNull();
    expect(refusal(6000, 4000, 'c_thumb,w_200,h_200')).toBeNull();
    expect(refusal(640, 480, 'c_fill,w_1200,h_630,g_auto')).toBeNull();
  });

  test('rotatedSize rounds the bounding box as libvips does', () => {
    expect(rotatedSize({ width: 8192, height: 4880 }, 45)).toEqual({ width: 9243, height: 9243 });
    expect(rotatedSize({ width: 100, height: 50 }, 30)).toEqual({ width: 112, height: 93 });
    expect(rotatedSize({ width: 640, height: 480 }, 180)).toEqual({ width: 640, height: 480 });
  });
});
