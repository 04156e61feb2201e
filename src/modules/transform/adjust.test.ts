/**
 * Golden images of the #24 steps (adjust.ts, frame.ts, chain.ts): every adjustment, opacity,
 * border, per-side padding, the blurred fill and chains give the planned size and format and
 * match a reference within a pixel-difference threshold. References are computed here, apart
 * from the code under test: per-pixel formulas of docs/TRANSFORMS.md in plain JS over the
 * source's raw pixels, and geometry drawn with sharp's own extend/resize/composite.
 * Also: the output limits and the still-image rule for the new steps, planned before decoding.
 */
import { beforeAll, describe, expect, test } from 'bun:test';
import sharp, { type Sharp } from 'sharp';
import {
  animation, BLUE, flat, gradient, GREEN, pixelAt, pixelDifference, pngHeaderOnly, quadrants, RED, YELLOW, type Colour,
} from '../../../test/helpers/images';
import { AppError } from '../../errors';
import { renderTransformation } from './chain';
import { planGeometry } from './geometry';
import type { OutputFormat } from './options';
import { parseTransformation } from './parse';
import type { RenderLimits } from './pipeline';
import { probeImage } from './probe';

const limits: RenderLimits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 15_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };
const THRESHOLD = 3;

async function render(input: Buffer, segment: string, format: OutputFormat = 'png', l: RenderLimits = limits) {
  const parsed = parseTransformation(segment, undefined, l, new Map());
  const probed = await probeImage(input, probeLimits);
  const out = await renderTransformation(input, probed, parsed, parsed.options.f ?? format, l);
  return { ...out, buffer: Buffer.from(out.body), meta: await sharp(out.body).metadata() };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw new Error(`not an AppError (would answer 500): ${String(err)}`);
  }
  throw new Error('the render succeeded');
}

type Px = [number, number, number, number];
/** A reference: `fn` applied to every RGBA pixel of `input` (with its position), as a PNG. */
async function mapPixels(input: Buffer | Sharp, fn: (p: Px, x: number, y: number, w: number, h: number) => Px): Promise<Buffer> {
  const { data, info } = await (Buffer.isBuffer(input) ? sharp(input) : input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(data.length);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 4;
      const p = fn([data[i] as number, data[i + 1] as number, data[i + 2] as number, data[i + 3] as number], x, y, info.width, info.height);
      for (let c = 0; c < 4; c++) out[i + c] = Math.max(0, Math.min(255, Math.round(p[c] as number)));
    }
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}
const rgb = (p: Px, f: (v: number, c: number) => number): Px => [f(p[0], 0), f(p[1], 1), f(p[2], 2), p[3]];
/** A 3×3 matrix on RGB (W3C Filter Effects forms, written out here). */
const matrix = (m: number[][]) => (p: Px): Px => {
  const [r, g, b] = p;
  return [0, 1, 2].map((i) => (m[i] as number[])[0]! * r + (m[i] as number[])[1]! * g + (m[i] as number[])[2]! * b).concat(p[3]) as Px;
};
function hueRotate(deg: number): number[][] {
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  return [
    [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
    [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.14, 0.072 - c * 0.072 - s * 0.283],
    [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
  ];
}
const saturate = (k: number) => [
  [0.213 + 0.787 * k, 0.715 - 0.715 * k, 0.072 - 0.072 * k],
  [0.213 - 0.213 * k, 0.715 + 0.285 * k, 0.072 - 0.072 * k],
  [0.213 - 0.213 * k, 0.715 - 0.715 * k, 0.072 + 0.928 * k],
];

let src: Buffer; // 400×200 quadrants: TL red, TR green, BL blue, BR yellow
let grad: Buffer; // 300×200 smooth gradient
const q = (w: number, h: number, c: [Colour, Colour, Colour, Colour] = [RED, GREEN, BLUE, YELLOW]) => quadrants(w, h, c).png().toBuffer();

beforeAll(async () => {
  src = await q(400, 200);
  grad = await gradient(300, 200).png().toBuffer();
});

async function expectGolden(input: Buffer, segment: string, size: [number, number], reference: Buffer | Sharp, format: OutputFormat = 'png', threshold = THRESHOLD) {
  const out = await render(input, segment, format);
  expect([out.width, out.height]).toEqual(size);
  expect(out.meta.format as string).toBe(format);
  expect(await pixelDifference(out.buffer, reference)).toBeLessThan(threshold);
  return out;
}

describe('adjustments (golden, references from the documented formulas)', () => {
  test('brightness and contrast, defaults included', async () => {
    await expectGolden(grad, 'e_brightness:40', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => v * 1.4)));
    await expectGolden(grad, 'e_brightness:-50', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => v * 0.5)));
    await expectGolden(grad, 'e_brightness', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => v * 1.8)));
    await expectGolden(grad, 'e_contrast:60', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => (v - 128) * 1.6 + 128)));
    await expectGolden(grad, 'e_contrast:-100', [300, 200], await mapPixels(grad, (p) => rgb(p, () => 128)));
    // Brightness before contrast, whatever the order written.
    await expectGolden(grad, 'e_contrast:50.brightness:20', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => (v * 1.2 - 128) * 1.5 + 128)));
  });

  test('gamma brightens and darkens', async () => {
    await expectGolden(grad, 'e_gamma:100', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => 255 * (v / 255) ** (1 / 2))));
    await expectGolden(grad, 'e_gamma:-50', [300, 200], await mapPixels(grad, (p) => rgb(p, (v) => 255 * (v / 255) ** 2)));
  });

  test('saturation and hue', async () => {
    await expectGolden(src, 'e_saturation:-100', [400, 200], await mapPixels(src, matrix(saturate(0))));
    await expectGolden(src, 'e_saturation:50', [400, 200], await mapPixels(src, matrix(saturate(1.5))));
    await expectGolden(src, 'e_hue:50', [400, 200], await mapPixels(src, matrix(hueRotate(90))));
    await expectGolden(src, 'e_hue', [400, 200], await mapPixels(src, matrix(hueRotate(144))));
    // Half a turn takes red towards cyan.
    const [r, g, b] = await pixelAt((await render(src, 'e_hue:100')).buffer, 10, 10);
    expect(g).toBeGreaterThan(r);
    expect(b).toBeGreaterThan(r);
  });

  test('tint (and its alias colorize) blends towards the colour', async () => {
    await expectGolden(src, 'e_tint:50:blue', [400, 200], await mapPixels(src, (p) => rgb(p, (v, c) => v * 0.5 + [0, 0, 255][c]! * 0.5)));
    await expectGolden(src, 'e_colorize', [400, 200], await mapPixels(src, (p) => rgb(p, (v, c) => v * 0.4 + [255, 0, 0][c]! * 0.6)));
    await expectGolden(src, 'e_tint:100:rgb:102030', [400, 200], await flat(400, 200, [16, 32, 48]).png().toBuffer());
  });

  test('vignette darkens by strength · d² and keeps the centre', async () => {
    const ref = await mapPixels(grad, (p, x, y, w, h) => {
      const dx = ((x + 0.5) / w) * 2 - 1;
      const dy = ((y + 0.5) / h) * 2 - 1;
      const k = 1 - 0.8 * Math.min(1, (dx * dx + dy * dy) / 2);
      return rgb(p, (v) => v * k);
    });
    const out = await expectGolden(grad, 'e_vignette:80', [300, 200], ref);
    expect(await pixelAt(out.buffer, 150, 100)).toEqual(await pixelAt(grad, 150, 100));
  });

  test('adjustments run after the other effects: grayscale then tint', async () => {
    const gray = await sharp(src).grayscale().toColourspace('srgb').png().toBuffer();
    await expectGolden(src, 'e_tint:20:red.grayscale', [400, 200], await mapPixels(gray, (p) => rgb(p, (v, c) => v * 0.8 + [255, 0, 0][c]! * 0.2)));
  });

  test('opacity multiplies alpha, and JPEG flattens it onto the background', async () => {
    await expectGolden(src, 'o_40', [400, 200], await mapPixels(src, (p) => [p[0], p[1], p[2], p[3] * 0.4]));
    await expectGolden(src, 'o_40,f_jpeg', [400, 200], await mapPixels(src, (p) => rgb(p, (v) => v * 0.4 + 255 * 0.6)), 'jpeg');
    await expectGolden(src, 'o_50,b_black,f_jpeg', [400, 200], await mapPixels(src, (p) => rgb(p, (v) => v * 0.5)), 'jpeg');
    expect((await pixelAt((await render(src, 'o_0')).buffer, 5, 5))[3]).toBe(0);
  });
});

describe('border, padding and the blurred fill (golden)', () => {
  test('bo_ adds its width × dpr of colour around the image', async () => {
    // References are encoded before comparing: sharp would resize (pixelDifference) before its extend.
    await expectGolden(src, 'bo_5px_solid_black', [410, 210], await sharp(src).extend({ top: 5, bottom: 5, left: 5, right: 5, background: '#000' }).png().toBuffer());
    const small = await sharp(await q(100, 50)).extend({ top: 6, bottom: 6, left: 6, right: 6, background: '#ff0000' }).png().toBuffer();
    await expectGolden(src, 'w_50,dpr_2,bo_3px_solid_red', [112, 62], small);
  });

  test('bo_ goes around rounded corners: the corners show the border colour behind transparency', async () => {
    const out = await render(src, 'w_100,r_20,bo_4px_solid_blue');
    expect([out.width, out.height]).toEqual([108, 58]);
    expect(await pixelAt(out.buffer, 1, 1)).toEqual([0, 0, 255, 255]);
    expect((await pixelAt(out.buffer, 5, 5))[3]).toBe(0); // inside the border, outside the rounded corner
  });

  test('pd_ pads per side in CSS order, in b_ or transparent', async () => {
    const ref = await sharp(src).extend({ top: 10, right: 20, bottom: 30, left: 40, background: { r: 0, g: 0, b: 0, alpha: 0 } }).png().toBuffer();
    await expectGolden(src, 'pd_10:20:30:40', [460, 240], ref);
    const red = await sharp(await q(100, 50)).extend({ top: 10, right: 20, bottom: 10, left: 20, background: '#ff0000' }).png().toBuffer();
    await expectGolden(src, 'w_50,dpr_2,pd_5:10,b_red', [140, 70], red);
    const jpegWhite = await sharp(src).extend({ top: 8, right: 8, bottom: 8, left: 8, background: '#fff' }).png().toBuffer();
    await expectGolden(src, 'pd_8,f_jpeg', [416, 216], jpegWhite, 'jpeg');
  });

  test('pd_ before a rotation and flip turns with the image', async () => {
    // The padded frame is flipped and turned as a whole (the pipeline mirrors before it turns, as sharp does for a_ with fl_).
    const padded = await sharp(src).extend({ top: 0, right: 0, bottom: 0, left: 30, background: '#000' }).png().toBuffer();
    const ref = await sharp(await sharp(padded).flop().png().toBuffer()).rotate(90).png().toBuffer();
    await expectGolden(src, 'pd_0:0:0:30,b_black,a_90,fl_hflip', [200, 430], ref);
  });

  test('b_blurred fills c_pad\'s bars and pd_ with the image blurred; the image itself stays sharp', async () => {
    const out = await render(src, 'c_pad,w_300,h_300,b_blurred');
    expect([out.width, out.height]).toEqual([300, 300]);
    const middle = await sharp(out.buffer).extract({ left: 0, top: 75, width: 300, height: 150 }).png().toBuffer();
    expect(await pixelDifference(middle, await q(300, 150))).toBeLessThan(THRESHOLD);
    // The bars are the image scaled to cover 300×300 (red/green above, blue/yellow below) and blurred.
    const cover = sharp(src).resize(300, 300, { fit: 'cover' }).blur(10);
    const top = await sharp(out.buffer).extract({ left: 0, top: 0, width: 300, height: 60 }).png().toBuffer();
    expect(await pixelDifference(top, await cover.extract({ left: 0, top: 0, width: 300, height: 60 }).png().toBuffer())).toBeLessThan(8);
    const [r, g] = await pixelAt(out.buffer, 20, 10);
    expect(r).toBeGreaterThan(g); // red side above the red quadrant
    const padded = await render(src, 'w_100,pd_20,b_blurred:20');
    expect([padded.width, padded.height]).toEqual([140, 90]);
    const inner = await sharp(padded.buffer).extract({ left: 20, top: 20, width: 100, height: 50 }).png().toBuffer();
    expect(await pixelDifference(inner, await q(100, 50))).toBeLessThan(THRESHOLD);
    expect((await pixelAt(padded.buffer, 2, 2))[3]).toBe(255); // filled, not transparent
  });
});

describe('chains (golden)', () => {
  test('each step applies to the previous result, in order', async () => {
    // Crop to the top-left quarter, then negate: a red square's negative.
    const negRed = await flat(100, 100, [255 - RED[0], 255 - RED[1], 255 - RED[2]]).png().toBuffer();
    await expectGolden(src, 'c_crop,w_200,h_100,g_north_west/e_negate,w_100,h_100,c_fill', [100, 100], negRed);
    // Border then a smaller resize then another border: outer red, the black one scaled down inside it.
    const twice = await render(src, 'bo_20px_solid_black/w_220/bo_5px_solid_red');
    expect([twice.width, twice.height]).toEqual([230, 130]); // 440×240 → 220×120 → + 2×5
    expect((await pixelAt(twice.buffer, 2, 2)).slice(0, 3)).toEqual([255, 0, 0]);
    expect((await pixelAt(twice.buffer, 7, 7)).slice(0, 3)).toEqual([0, 0, 0]);
    // A quarter turn first, then a crop of the turned image's top-left (blue after a_90).
    await expectGolden(src, 'a_90/c_crop,w_50,h_50,g_north_west', [50, 50], await flat(50, 50, BLUE).png().toBuffer());
  });

  test('the last step\'s format is the output\'s; a chain equals the same steps done one after the other', async () => {
    const chained = await render(src, 'c_fill,w_200,h_200/e_brightness:30/f_webp');
    expect(chained.meta.format).toBe('webp');
    const first = await render(src, 'c_fill,w_200,h_200');
    const second = await render(first.buffer, 'e_brightness:30');
    expect(await pixelDifference(chained.buffer, second.buffer)).toBeLessThan(THRESHOLD);
  });

  test('an animated source gives a still image', async () => {
    const gif = await animation('gif', 3);
    const out = await render(gif, 'w_20/e_grayscale', 'gif');
    expect(out.meta.pages ?? 1).toBe(1);
    expect([out.width, out.height]).toEqual([20, 15]);
  });
});

describe('limits and refusals of the new steps', () => {
  test('padding and border count in the planned size: over the limits is refused before decoding', async () => {
    // The header claims 4000×3000; its pixel data is a stub that would fail to decode.
    const header = pngHeaderOnly(4000, 3000);
    for (const [segment, parameter] of [['c_scale,w_8000,h_4000,pd_0:200', 'pd'], ['c_scale,w_8100,h_4000,bo_50px_solid_red', 'bo'],
      ['w_6000,h_6000,c_fill,pd_200', 'pd'], ['c_pad,w_8192,h_4000,b_blurred,bo_1px_solid_red', 'bo']] as const) {
      const err = await refusal(render(header, segment));
      expect([err.status, err.code, err.details?.parameter]).toEqual([400, 'INVALID_TRANSFORMATION', parameter]);
    }
    // Padding alone past MAX_DIMENSION is refused by the parser.
    expect(() => parseTransformation('pd_5000:0:5000:0', undefined, limits, new Map())).toThrow(AppError);
    expect(() => parseTransformation('bo_1000px_solid_red,dpr_4.5', undefined, limits, new Map())).toThrow(AppError);
  });

  test('the most expensive combination of the new parameters stays within the limits it was planned for', async () => {
    // Every new step at once, at the largest size a small server allows: the plan is checked up
    // front and the output is exactly the planned (bordered) size, within MAX_OUTPUT_PIXELS.
    // A generous deadline: the machine running the suite may be busy, and the point here is the sizes.
    const small: RenderLimits = { ...limits, maxDimension: 1600, maxOutputPixels: 2_400_000, timeoutMs: 120_000 };
    const segment = 'c_pad,w_800,h_800,b_blurred:2000,pd_100:150,a_45,bo_20px_solid_red,r_40,o_60,'
      + 'e_gamma:150.saturation:100.hue:-100.brightness:100.contrast:100.tint:100:blue.vignette:100';
    const parsed = parseTransformation(segment, undefined, small, new Map());
    const plan = planGeometry({ width: 400, height: 200 }, parsed.options, small);
    expect(plan.bordered.width * plan.bordered.height).toBeLessThanOrEqual(small.maxOutputPixels);
    const out = await render(src, segment, 'png', small);
    expect([out.width, out.height]).toEqual([plan.bordered.width, plan.bordered.height]);
    // One step further (a larger box) is refused with the step named, before decoding.
    const err = await refusal(render(src, segment.replace('w_800,h_800', 'w_900,h_900'), 'png', small));
    expect(err.details?.parameter).toBe('a');
    // Chained twice, each step is planned on its own input and the output stays within the limits…
    const twice = await render(src, `${segment}/${segment}`, 'png', small);
    expect(twice.width * twice.height).toBeLessThanOrEqual(small.maxOutputPixels);
    expect(Math.max(twice.width, twice.height)).toBeLessThanOrEqual(small.maxDimension);
    // …and a later step that would exceed them is refused, naming its key.
    const chainErr = await refusal(render(src, `${segment}/c_scale,w_1600,h_1400,pd_10`, 'png', small));
    expect([chainErr.code, chainErr.details?.parameter]).toEqual(['INVALID_TRANSFORMATION', 'pd']);
  }, 240_000);

  test('adjustments, opacity, border and padding on an animated output are refused (400), not applied to one frame', async () => {
    const gif = await animation('gif', 3);
    for (const segment of ['e_brightness', 'o_50', 'bo_2px_solid_red', 'pd_4', 'c_pad,w_60,h_60,b_blurred']) {
      const err = await refusal(render(gif, segment, 'gif'));
      expect([err.status, err.code]).toEqual([400, 'INVALID_TRANSFORMATION']);
    }
    // As a still (PNG) they apply.
    const still = await render(gif, 'e_brightness:10,bo_2px_solid_red', 'png');
    expect([still.width, still.height]).toEqual([44, 34]);
  });
});
