/**
 * Golden images: every resize mode, gravity, effect, rotation, format and animated input gives
 * the right size and format and matches an independently drawn reference within a pixel-
 * difference threshold (mean absolute difference per channel, 0–255).
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import sharp, { type Sharp } from 'sharp';
import {
  animation, BLUE, flat, gradient, GREEN, pixelAt, pixelDifference, pngHeaderOnly, quadrants, RED, YELLOW, type Colour,
} from '../../../test/helpers/images';
import { AppError } from '../../errors';
import type { OutputFormat } from './options';
import { parseTransformation } from './parse';
import { renderImage } from './pipeline';
import { probeImage } from './probe';

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 15_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };
/** Flat quadrants resample almost exactly; edges between them and lossy encoders add a little. */
const THRESHOLD = 6;

async function render(input: Buffer, segment: string, format: OutputFormat = 'png') {
  const parsed = parseTransformation(segment, undefined, limits, new Map());
  const probed = await probeImage(input, probeLimits);
  const out = await renderImage(input, probed, parsed.options, parsed.options.f ?? format, limits);
  return { ...out, buffer: Buffer.from(out.body), meta: await sharp(out.body, { animated: true }).metadata() };
}

let src: Buffer; // 400×200 quadrants: TL red, TR green, BL blue, BR yellow
const q = (w: number, h: number, c: [Colour, Colour, Colour, Colour]) => quadrants(w, h, c).png().toBuffer();

beforeAll(async () => {
  src = await quadrants(400, 200).png().toBuffer();
});

async function expectGolden(segment: string, size: [number, number], reference: Buffer | Sharp, threshold = THRESHOLD) {
  const out = await render(src, segment);
  expect([out.width, out.height]).toEqual(size);
  expect(await pixelDifference(out.buffer, reference)).toBeLessThan(threshold);
}

describe('resize modes and gravity (golden)', () => {
  test('c_fill: centre, west, east, north, south', async () => {
    await expectGolden('c_fill,w_100,h_100', [100, 100], await q(100, 100, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('c_fill,w_100,h_100,g_west', [100, 100], await q(100, 100, [RED, RED, BLUE, BLUE]));
    await expectGolden('c_fill,w_100,h_100,g_east', [100, 100], await q(100, 100, [GREEN, GREEN, YELLOW, YELLOW]));
    await expectGolden('c_fill,w_200,h_50,g_north', [200, 50], await q(200, 50, [RED, GREEN, RED, GREEN]));
    await expectGolden('c_fill,w_200,h_50,g_south', [200, 50], await q(200, 50, [BLUE, YELLOW, BLUE, YELLOW]));
    await expectGolden('c_fill,w_100,h_100,g_north_west', [100, 100], await q(100, 100, [RED, RED, BLUE, BLUE]));
  });

  test('g_auto (attention) and g_entropy pick the detailed side', async () => {
    // Left half flat grey, right half a busy gradient: both strategies should crop to the right.
    const busy = await gradient(200, 200).png().toBuffer();
    const input = await flat(400, 200, [128, 128, 128]).composite([{ input: busy, left: 200, top: 0 }]).png().toBuffer();
    for (const g of ['auto', 'entropy']) {
      const parsed = parseTransformation(`c_fill,w_100,h_100,g_${g}`, undefined, limits, new Map());
      const out = await renderImage(input, await probeImage(input, probeLimits), parsed.options, 'png', limits);
      expect([out.width, out.height]).toEqual([100, 100]);
      const right = await pixelDifference(Buffer.from(out.body), sharp(busy).resize(100, 100));
      const left = await pixelDifference(Buffer.from(out.body), flat(100, 100, [128, 128, 128]));
      expect(right).toBeLessThan(left);
    }
  });

  test('g_auto and g_entropy on an animation crop every frame where the first frame\'s strategy does', async () => {
    // They answered 500 ("Resize strategy is not supported for multi-page images"), and so did
    // the eager t_thumb of every animated upload.
    const busy = await gradient(200, 200).png().toBuffer();
    // Frames differ by a dot in a corner (identical frames are merged into one by the encoders).
    const frames = await Promise.all([RED, GREEN, BLUE].map(async (dot) => flat(400, 200, [128, 128, 128])
      .composite([{ input: busy, left: 200, top: 0 }, { input: await flat(4, 4, dot).png().toBuffer(), left: 0, top: 0 }]).png().toBuffer()));
    for (const format of ['webp', 'gif'] as const) {
      const joined = sharp(frames, { join: { animated: true } });
      const input = await (format === 'gif' ? joined.gif({ delay: 50 }) : joined.webp({ delay: 50, lossless: true })).toBuffer();
      for (const segment of ['c_fill,w_100,h_100,g_auto', 'c_fill,w_100,h_100,g_entropy', 'c_thumb,w_100,h_100', 'c_lfill,w_300,h_150,g_auto']) {
        const out = await render(input, `${segment},f_${format}`);
        const still = await render(input, `${segment},f_png`);
        expect({ segment, format, pages: out.meta.pages, size: [out.width, out.height] }).toEqual({ segment, format, pages: 3, size: [still.width, still.height] });
        const firstFrame = await sharp(out.buffer, { pages: 1 }).png().toBuffer();
        expect(await pixelDifference(firstFrame, still.buffer)).toBeLessThan(format === 'gif' ? 12 : THRESHOLD);
      }
    }
  });

  test('rotation, pixelate and rounded corners on an animation are refused, not rendered wrong or skipped', async () => {
    const input = await animation('gif', 3);
    for (const segment of ['a_90', 'a_180', 'a_45', 'e_pixelate:4', 'r_10']) {
      const err = await render(input, `${segment},f_gif`).then(() => null, (e: unknown) => e);
      expect({ segment, err }).toMatchObject({ segment, err: { status: 400, code: 'INVALID_TRANSFORMATION' } });
      expect(((err as AppError).message)).toContain('on a still image');
      // The first frame, as a still image, takes them.
      expect((await render(input, `${segment},f_png`)).meta.format).toBe('png');
    }
  });

  test('fit, limit, scale, mfit, thumb, lfill', async () => {
    await expectGolden('c_fit,w_100,h_100', [100, 50], await q(100, 50, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('w_1000', [400, 200], src); // limit never enlarges
    await expectGolden('c_fit,w_800', [800, 400], await q(800, 400, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('c_scale,w_100,h_100', [100, 100], await q(100, 100, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('c_mfit,w_100,h_100', [200, 100], await q(200, 100, [RED, GREEN, BLUE, YELLOW]));
    // c_thumb is c_fill with g_auto by default.
    await expectGolden('c_thumb,w_50,h_50', [50, 50], (await render(src, 'c_fill,w_50,h_50,g_auto')).buffer, 1);
    await expectGolden('c_lfill,w_200,h_200', [200, 200], await q(200, 200, [RED, GREEN, BLUE, YELLOW]));
  });

  test('pad and lpad add background bars', async () => {
    const padded = quadrants(100, 50).extend({ top: 25, bottom: 25, background: { r: 255, g: 255, b: 255 } });
    await expectGolden('c_pad,w_100,h_100,b_white', [100, 100], await padded.png().toBuffer());
    const lpadded = sharp(src).extend({ top: 300, bottom: 300, left: 200, right: 200, background: { r: 0, g: 0, b: 0 } });
    await expectGolden('c_lpad,w_800,h_800,b_black', [800, 800], await lpadded.png().toBuffer());
    // Placed by g, as c_pad places it (the bars were split evenly whatever g said).
    const corner = sharp(src).extend({ top: 0, bottom: 600, left: 0, right: 400, background: { r: 0, g: 0, b: 0 } });
    await expectGolden('c_lpad,w_800,h_800,b_black,g_north_west', [800, 800], await corner.png().toBuffer());
    const south = sharp(src).extend({ top: 600, bottom: 0, left: 200, right: 200, background: { r: 0, g: 0, b: 0 } });
    await expectGolden('c_lpad,w_800,h_800,b_black,g_south', [800, 800], await south.png().toBuffer());
  });

  test('c_crop extracts a region; ar and dpr size the box', async () => {
    await expectGolden('c_crop,w_100,h_100,x_150,y_50', [100, 100], await q(100, 100, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('c_crop,w_100,h_100,g_south_east', [100, 100], await flat(100, 100, YELLOW).png().toBuffer());
    await expectGolden('c_fill,w_100,ar_1:1', [100, 100], await q(100, 100, [RED, GREEN, BLUE, YELLOW]));
    await expectGolden('w_50,dpr_2', [100, 50], await q(100, 50, [RED, GREEN, BLUE, YELLOW]));
    // An offset past the 400×200 source names itself (y was reported as x, with both values).
    await expect(render(src, 'c_crop,w_10,h_10,y_900')).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION', details: { parameter: 'y', value: '900' } });
    await expect(render(src, 'c_crop,w_10,h_10,x_400')).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION', details: { parameter: 'x', value: '400' } });
  });

  test('outputs over the limits are refused before rendering', async () => {
    const thin = await flat(1, 1000, RED).png().toBuffer();
    const parsed = parseTransformation('c_mfit,w_8000,h_1', undefined, limits, new Map());
    await expect(renderImage(thin, await probeImage(thin, probeLimits), parsed.options, 'png', limits)).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION' });
  });
});

describe('rotation, flips, orientation', () => {
  test('a_90, a_180, a_45 and flips', async () => {
    await expectGolden('a_90', [200, 400], await q(200, 400, [BLUE, RED, YELLOW, GREEN]));
    await expectGolden('a_180', [400, 200], await q(400, 200, [YELLOW, BLUE, GREEN, RED]));
    await expectGolden('fl_hflip', [400, 200], await q(400, 200, [GREEN, RED, YELLOW, BLUE]));
    await expectGolden('fl_vflip', [400, 200], await q(400, 200, [BLUE, YELLOW, RED, GREEN]));
    const tilted = await render(src, 'a_45');
    expect(Math.abs(tilted.width - 424)).toBeLessThanOrEqual(2);
    expect(Math.abs(tilted.height - 424)).toBeLessThanOrEqual(2);
  });

  test('EXIF orientation is applied and metadata stripped', async () => {
    const jpeg = await quadrants(200, 100).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const out = await render(jpeg, 'f_jpeg');
    expect([out.width, out.height]).toEqual([100, 200]);
    expect(out.meta.orientation).toBeUndefined();
    expect(out.meta.exif).toBeUndefined();
  });
});

describe('effects (golden)', () => {
  test('grayscale, negate, sepia', async () => {
    const gray = await render(src, 'e_grayscale');
    const [r, g, b] = await pixelAt(gray.buffer, 50, 50);
    expect(Math.abs(r - g) + Math.abs(g - b)).toBeLessThan(3);
    await expectGolden('e_negate', [400, 200], await q(400, 200, [RED, GREEN, BLUE, YELLOW].map((c) => c.map((v) => 255 - v)) as [Colour, Colour, Colour, Colour]));
    const sepia = await render(src, 'e_sepia');
    const [sr, sg, sb] = await pixelAt(sepia.buffer, 50, 50);
    const [R, G, B] = RED;
    expect(Math.abs(sr - Math.min(255, 0.393 * R + 0.769 * G + 0.189 * B))).toBeLessThan(6);
    expect(Math.abs(sg - (0.349 * R + 0.686 * G + 0.168 * B))).toBeLessThan(6);
    expect(Math.abs(sb - (0.272 * R + 0.534 * G + 0.131 * B))).toBeLessThan(6);
  });

  test('blur keeps flat areas and mixes edges; sharpen stays close', async () => {
    const out = await render(src, 'e_blur:200');
    expect(await pixelAt(out.buffer, 50, 50)).toEqual([...RED, 255]);
    const [er, eg] = await pixelAt(out.buffer, 200, 50);
    expect(er).toBeGreaterThan(GREEN[0] + 20);
    expect(eg).toBeGreaterThan(RED[1] + 20);
    await expectGolden('e_sharpen', [400, 200], src);
  });

  test('every strength the grammar takes renders (sharpen above 1900 was a 500: past sharp\'s largest sigma)', async () => {
    for (const segment of ['e_sharpen:1', 'e_sharpen:2000', 'e_blur:1', 'e_blur:2000', 'e_pixelate:200']) {
      const out = await render(src, segment);
      expect({ segment, size: [out.width, out.height] }).toEqual({ segment, size: [400, 200] });
    }
  });

  test('pixelate makes uniform blocks', async () => {
    const input = await gradient(200, 200).png().toBuffer();
    const out = await render(input, 'e_pixelate:20');
    expect(await pixelAt(out.buffer, 0, 0)).toEqual(await pixelAt(out.buffer, 19, 19));
    expect(await pixelAt(out.buffer, 0, 0)).not.toEqual(await pixelAt(out.buffer, 199, 199));
  });

  test('trim removes a flat border', async () => {
    const input = await flat(300, 300, [255, 255, 255]).composite([{ input: await flat(100, 100, YELLOW).png().toBuffer(), left: 100, top: 100 }]).png().toBuffer();
    const out = await render(input, 'e_trim');
    expect([out.width, out.height]).toEqual([100, 100]);
  });

  test('trim then resize takes a source wider than the output limit, as the resize alone does', async () => {
    const wide = await flat(9000, 40, [255, 255, 255]).composite([{ input: await flat(8500, 20, YELLOW).png().toBuffer(), left: 250, top: 10 }]).png().toBuffer();
    expect((await render(wide, 'w_850')).width).toBe(850);
    const out = await render(wide, 'e_trim,w_850');
    expect([out.width, out.height]).toEqual([850, 2]);
  });

  test('rounded corners: r_20 and r_max are transparent outside the curve', async () => {
    const square = await flat(100, 100, RED).png().toBuffer();
    for (const r of ['r_20', 'r_max']) {
      const out = await render(square, r);
      expect(out.meta.hasAlpha).toBe(true);
      expect((await pixelAt(out.buffer, 0, 0))[3]).toBe(0);
      expect((await pixelAt(out.buffer, 50, 50))[3]).toBe(255);
    }
    const circle = await render(square, 'r_max');
    expect((await pixelAt(circle.buffer, 10, 10))[3]).toBe(0);
  });
});

describe('formats and animation', () => {
  test('every output format encodes with the right type and close pixels', async () => {
    const expected: Record<OutputFormat, string> = { webp: 'webp', avif: 'heif', jpeg: 'jpeg', png: 'png', gif: 'gif' };
    for (const f of Object.keys(expected) as OutputFormat[]) {
      const out = await render(src, `w_200,f_${f}`);
      expect(out.meta.format as string).toBe(expected[f]);
      expect([out.width, out.height]).toEqual([200, 100]);
      expect(await pixelDifference(out.buffer, await q(200, 100, [RED, GREEN, BLUE, YELLOW]))).toBeLessThan(THRESHOLD);
    }
  });

  test('quality and progressive flags reach the encoder; JPEG flattens alpha onto white', async () => {
    const photo = await gradient(300, 300).png().toBuffer();
    const low = await render(photo, 'f_jpeg,q_10');
    const high = await render(photo, 'f_jpeg,q_95');
    expect(low.body.byteLength).toBeLessThan(high.body.byteLength);
    expect((await render(photo, 'f_jpeg,fl_progressive')).meta.isProgressive).toBe(true);
    const transparent = await flat(20, 20, RED, 0).png().toBuffer();
    expect(await pixelAt((await render(transparent, 'f_jpeg')).buffer, 5, 5)).toEqual([255, 255, 255, 255]);
  });

  test('a transparent or half-transparent b_ on JPEG output is laid over white (the bars and corners came out black)', async () => {
    const near = (got: number[], want: number[]) => expect(got.slice(0, 3).map((v, i) => Math.abs(v - want[i]!) <= 6)).toEqual([true, true, true]);
    for (const segment of ['c_pad,w_200,h_200,b_transparent', 'c_lpad,w_600,h_600,b_transparent', 'pd_20,w_200,b_transparent', 'a_45,w_200,b_transparent']) {
      near(await pixelAt((await render(src, `${segment},f_jpg`)).buffer, 1, 1), [255, 255, 255]);
    }
    // Green at half alpha over white, as a PNG of the same bars would look on a white page.
    near(await pixelAt((await render(src, 'c_pad,w_200,h_200,b_rgb:00ff0080,f_jpg')).buffer, 100, 5), [127, 255, 127]);
    // Where the format holds alpha, the colour stays as given.
    expect((await pixelAt((await render(src, 'c_pad,w_200,h_200,b_transparent,f_png')).buffer, 100, 5))[3]).toBe(0);
  });

  test('animated GIF and WebP stay animated; a still format takes the first frame', async () => {
    for (const format of ['gif', 'webp'] as const) {
      const input = await animation(format, 6);
      const out = await render(input, `w_20,f_${format}`);
      expect(out.meta.format).toBe(format);
      expect(out.meta.pages).toBe(6);
      expect(out.width).toBe(20);
      expect(out.height).toBe(15);
      const first = await render(input, 'w_20,f_png');
      expect(first.meta.pages ?? 1).toBe(1);
      expect(await pixelDifference(first.buffer, flat(20, 15, RED))).toBeLessThan(THRESHOLD);
    }
  });
});

describe('input limits (header only, no decoding)', () => {
  // The PNG has a header and no pixel data at all: refused for its pixel count, it was never decoded.
  test('a 30000×30000 PNG is refused from its header', async () => {
    const bomb = pngHeaderOnly(30000, 30000);
    const err = await probeImage(bomb, probeLimits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
    expect((err as AppError).message).toContain('pixels');
  });

  test('a 301-frame GIF is refused from its header', async () => {
    const gif = await animation('gif', 301, 8, 8);
    const err = await probeImage(gif, probeLimits).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
    expect((err as AppError).message).toContain('frames');
  });

  test('non-images are refused as not a raster image', async () => {
    const err = await probeImage(Buffer.from('hello, not an image'), probeLimits).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect(((await probeImage(svg, probeLimits).catch((e: unknown) => e)) as AppError).message).toContain('not a raster image');
  });
});
