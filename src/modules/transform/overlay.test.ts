/**
 * Layers (#24): the parser's layer keys, and golden images of image layers (transparency,
 * opacity, relative width, tiling) and the text layer drawn with the bundled font. References
 * are computed here independently of sharp's composite: alpha blending done in JS on raw
 * pixels, tile positions by modulo arithmetic, and the text's glyph spacing from the font
 * file's own `hmtx` advances (read by a parser in this file, not the code under test).
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import sharp from 'sharp';
import { animation } from '../../../test/helpers/images';
import { AppError } from '../../errors';
import { FONT_FILE } from './font';
import type { ImageLayer } from './overlay';
import { escapeMarkup, placeLayer, textBound } from './overlay';
import { parseTransformation } from './parse';
import { renderImage } from './pipeline';
import { probeImage } from './probe';

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 60_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };
const parse = (s: string) => parseTransformation(s, undefined, limits, new Map());

function expectInvalid(segment: string, parameter: string) {
  try {
    parse(segment);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
    expect((err as AppError).message).toContain(`parameter ${parameter}`);
    return;
  }
  throw new Error(`${segment} was accepted`);
}

describe('layer keys in the parser', () => {
  test('image layer keys: valid values, defaults dropped, canonical order', () => {
    const p = parse('lo_60,lw_0.25,ly_-12,lx_8,lg_south_east,l_abcdef123,w_400');
    expect(p.options).toMatchObject({ l: 'abcdef123', lg: 'south_east', lx: 8, ly: -12, lw: 0.25, lo: 60 });
    expect(p.canonical).toBe('l_abcdef123,lg_south_east,lo_60,lw_0.25,lx_8,ly_-12,w_400');
    expect(parse(p.canonical).canonical).toBe(p.canonical);
    // Defaults are dropped: centre, no offset, full opacity.
    expect(parse('l_abcdef123,lg_center,lx_0,lo_100').canonical).toBe('l_abcdef123');
    expect(parse('l_wm:logo-2').options.l).toBe('wm:logo-2');
    expect(parse('l_abcdef,lg_tile,lx_10').options.lg).toBe('tile');
    expect(parse('l_abcdef,lw_1').options.lw).toBe(1);
  });

  test('image layer keys: malformed or out of range → INVALID_TRANSFORMATION naming the key', () => {
    for (const [segment, key] of [
      ['l_abc', 'l'], ['l_wm:', 'l'], ['l_wm:Logo', 'l'], ['l_../x', 'l'], ['l_abcdef,lg_up', 'lg'], ['l_abcdef,lx_9000', 'lx'],
      ['l_abcdef,ly_1.5', 'ly'], ['l_abcdef,lw_0', 'lw'], ['l_abcdef,lw_1.5', 'lw'], ['l_abcdef,lw_0.001', 'lw'], ['l_abcdef,lo_0', 'lo'],
      ['l_abcdef,lo_101', 'lo'], ['lg_south', 'lg'], ['lo_50', 'lo'], ['l_abcdef,lg_tile,lx_-3', 'lx'],
    ] as const) expectInvalid(segment, key);
  });

  test('text layer keys: decoding twice, colours, defaults, refusals', () => {
    // The segment is decoded once by the parser, the text once more: %252C is a comma inside the text.
    const p = parseTransformation('txt_Hello%252C%20W%C3%B6rld%2521,ts_48,tc_white,tb_rgb:00000080,tg_north', undefined, limits, new Map());
    expect(p.options.txt).toBe('Hello, Wörld!');
    expect(p.options.tc).toEqual({ r: 255, g: 255, b: 255, alpha: 255 });
    expect(p.canonical).toBe('tb_rgb:00000080,tc_rgb:ffffff,tg_north,ts_48,txt_Hello%252C%2520W%25C3%25B6rld!');
    // The canonical form, used in a URL, reads back as the same text.
    expect(parseTransformation(p.canonical, undefined, limits, new Map()).options.txt).toBe('Hello, Wörld!');
    expect(parse('txt_a,ts_32').canonical).toBe('txt_a');
    expect(parse(`txt_${'x'.repeat(100)}`).options.txt).toHaveLength(100);
    for (const [segment, key] of [
      [`txt_${'x'.repeat(101)}`, 'txt'], ['txt_a%250Ab', 'txt'], ['txt_a%2509', 'txt'], ['txt_%25E2%2580%25AE', 'txt'], // newline, tab, RLO
      ['txt_%25', 'txt'], ['txt_%25ED%25A0%2580', 'txt'], ['txt_\u4e2d', 'txt'], // bad escape, lone surrogate, a glyph the font lacks
      ['txt_%20%20', 'txt'], ['txt_a,ts_5', 'ts'], ['txt_a,ts_257', 'ts'], ['txt_a,tc_nope', 'tc'], ['txt_a,tg_tile', 'tg'], ['ts_40', 'ts'], ['tb_red', 'tb'],
    ] as const) expectInvalid(segment, key);
  });

  test('random layer strings never throw anything but INVALID_TRANSFORMATION', () => {
    const keys = ['l', 'lg', 'lx', 'ly', 'lw', 'lo', 'txt', 'tg', 'tx', 'ty', 'ts', 'tc', 'tb', 'w'];
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.integer().map(String), fc.double().map(String),
      fc.constantFrom('wm:logo', 'abcdef123', 'south_east', 'tile', '0.5', '%25', '%2500', '%252C', 'rgb:ff000080'));
    const segment = fc.array(fc.tuple(fc.constantFrom(...keys), value).map(([k, v]) => `${k}_${v}`), { minLength: 1, maxLength: 6 }).map((p) => p.join(','));
    fc.assert(
      fc.property(segment, (s) => {
        try {
          const p = parse(s);
          expect(parse(p.canonical || 'w_1').options).toBeDefined();
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('markup escaping and placement helpers', () => {
    expect(escapeMarkup(`<b>"x" & 'y'</b>`)).toBe('&lt;b&gt;&quot;x&quot; &amp; &apos;y&apos;&lt;/b&gt;');
    const base = { width: 100, height: 50 };
    expect(placeLayer('south_east', base, { width: 20, height: 10 }, 5, 3)).toEqual({ left: 75, top: 37 });
    expect(placeLayer('north_west', base, { width: 20, height: 10 }, 5, 3)).toEqual({ left: 5, top: 3 });
    expect(placeLayer('center', base, { width: 20, height: 10 }, 0, 0)).toEqual({ left: 40, top: 20 });
    // Kept inside the base.
    expect(placeLayer('east', base, { width: 20, height: 10 }, -50, 0)).toEqual({ left: 80, top: 20 });
  });
});

/** Raw RGBA of an image. */
async function rgba(input: Buffer | Uint8Array) {
  const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** A deterministic, smooth 4-channel pattern (no edges: resampling and encoding barely move it). */
function rawPattern(width: number, height: number, fn: (x: number, y: number) => [number, number, number, number]): Buffer {
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(fn(x, y), (y * width + x) * 4);
  return out;
}
const png = (data: Buffer, width: number, height: number) => sharp(data, { raw: { width, height, channels: 4 } }).png().toBuffer();

async function render(base: Buffer, segment: string, layers: ImageLayer[] = []) {
  const parsed = parse(segment);
  const probed = await probeImage(base, probeLimits);
  const out = await renderImage(base, probed, parsed.options, parsed.options.f ?? 'png', limits, undefined, undefined, layers);
  return { ...out, meta: await sharp(out.body).metadata() };
}

/** Mean absolute difference per channel between two RGBA buffers of the same size. */
function meanDiff(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}

const layerOf = (input: Buffer, o: Partial<ImageLayer> = {}): ImageLayer => ({ input, gravity: 'center', x: 0, y: 0, opacity: 100, ...o });

describe('golden images: image layers', () => {
  const W = 320;
  const H = 200;
  const baseRaw = rawPattern(W, H, (x, y) => [Math.round((x / W) * 255), Math.round((y / H) * 255), 128, 255]);
  // A 60×40 layer: left half opaque orange, right half orange at 40 % alpha.
  const LW = 60;
  const LH = 40;
  const layerRaw = rawPattern(LW, LH, (x) => [255, 140, 0, x < LW / 2 ? 255 : 102]);

  /** The base with the layer blended at (left, top): out = layer·a + base·(1 − a), a = alpha × opacity. */
  function reference(left: number, top: number, opacity: number, layer = layerRaw, lw = LW, lh = LH): Buffer {
    const out = Buffer.from(baseRaw);
    for (let y = 0; y < lh; y++) {
      for (let x = 0; x < lw; x++) {
        const i = ((top + y) * W + left + x) * 4;
        const j = (y * lw + x) * 4;
        const a = ((layer[j + 3] as number) / 255) * opacity;
        for (let c = 0; c < 3; c++) out[i + c] = Math.round((layer[j + c] as number) * a + (out[i + c] as number) * (1 - a));
      }
    }
    return out;
  }

  test('a layer with transparency at south_east, offset, 50 % opacity (PNG)', async () => {
    const base = await png(baseRaw, W, H);
    const out = await render(base, 'f_png,l_abcdef1,lg_south_east,lx_10,ly_20,lo_50', [layerOf(await png(layerRaw, LW, LH), { gravity: 'south_east', x: 10, y: 20, opacity: 50 })]);
    expect([out.width, out.height, out.meta.format]).toEqual([W, H, 'png']);
    const got = await rgba(out.body);
    const diff = meanDiff(got.data, reference(W - LW - 10, H - LH - 20, 0.5));
    expect(diff).toBeLessThan(1);
    // And it differs from the base where the layer is: the layer was drawn.
    const i = ((H - 20 - 5) * W + (W - 10 - LW + 5)) * 4; // the opaque half: alpha 1 × 50 %
    expect(Math.abs((got.data[i + 2] as number) - (baseRaw[i + 2] as number))).toBeGreaterThan(30);
  });

  test('a layer without alpha (a JPEG logo) at 50 % opacity is blended, not a 500', async () => {
    const base = await png(baseRaw, W, H);
    const flat = rawPattern(LW, LH, () => [20, 60, 220, 255]);
    const jpeg = await sharp(flat, { raw: { width: LW, height: LH, channels: 4 } }).removeAlpha().jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(jpeg).metadata()).hasAlpha).toBe(false);
    const out = await render(base, 'f_png,l_abcdef1,lg_north_west,lo_50', [layerOf(jpeg, { gravity: 'north_west', opacity: 50 })]);
    expect(meanDiff((await rgba(out.body)).data, reference(0, 0, 0.5, flat))).toBeLessThan(2);
  });

  test('lw_ scales the layer relative to the base width (WebP output)', async () => {
    const base = await png(baseRaw, W, H);
    // A flat layer resamples to the same flat colour: the reference needs no resampler.
    const flatLayer = rawPattern(200, 100, () => [0, 200, 255, 200]);
    const out = await render(base, 'f_webp,q_100,l_abcdef1,lg_north_west,lw_0.25', [layerOf(await png(flatLayer, 200, 100), { gravity: 'north_west', w: 0.25 })]);
    expect([out.width, out.height, out.meta.format]).toEqual([W, H, 'webp']);
    const expected = reference(0, 0, 1, rawPattern(80, 40, () => [0, 200, 255, 200]), 80, 40);
    expect(meanDiff((await rgba(out.body)).data, expected)).toBeLessThan(2.5);
  });

  test('lg_tile repeats the layer with the gap of lx/ly over the whole image', async () => {
    const base = await png(baseRaw, W, H);
    const tile = rawPattern(16, 8, (x, y) => [255, 255, 255, (x + y) % 2 ? 255 : 128]);
    const out = await render(base, 'f_png,l_abcdef1,lg_tile,lx_4,ly_2', [layerOf(await png(tile, 16, 8), { gravity: 'tile', x: 4, y: 2 })]);
    expect([out.width, out.height]).toEqual([W, H]);
    const expected = Buffer.from(baseRaw);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const tx = x % 20; // 16 + gap 4
        const ty = y % 10; // 8 + gap 2
        if (tx >= 16 || ty >= 8) continue;
        const a = ((tx + ty) % 2 ? 255 : 128) / 255;
        const i = (y * W + x) * 4;
        for (let c = 0; c < 3; c++) expected[i + c] = Math.round(255 * a + (expected[i + c] as number) * (1 - a));
      }
    }
    expect(meanDiff((await rgba(out.body)).data, expected)).toBeLessThan(1);
  });

  test('a layer larger than the base is shrunk to fit inside it; JPEG output is flattened', async () => {
    const base = await png(baseRaw, W, H);
    const big = rawPattern(1000, 1000, () => [10, 20, 30, 255]);
    const out = await render(base, 'f_jpg,l_abcdef1', [layerOf(await png(big, 1000, 1000))]);
    expect([out.width, out.height, out.meta.format, out.meta.channels]).toEqual([W, H, 'jpeg', 3]);
    const got = await rgba(out.body);
    // The centre 200×200 square is the layer's colour; the sides are the base.
    const at = (x: number, y: number) => [...got.data.subarray((y * W + x) * 4, (y * W + x) * 4 + 3)];
    for (const v of at(160, 100)) expect(v).toBeLessThan(45);
    expect(at(5, 100)[1] as number).toBeGreaterThan(100);
  });

  test('an l_ with no resolved file (a remote source) is refused, never ignored', async () => {
    const base = await png(baseRaw, W, H);
    await expect(render(base, 'f_png,l_abcdef1')).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION' });
  });

  test('a layer on an animation is refused for animated output', async () => {
    const animated = await animation('gif', 3, 20, 10);
    const probed = await probeImage(animated, probeLimits);
    expect(probed.animated).toBe(true);
    const parsed = parse('txt_x');
    await expect(renderImage(animated, probed, parsed.options, 'gif', limits)).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION' });
    // A still output of its first frame takes the layer.
    const still = await renderImage(animated, probed, parsed.options, 'png', limits);
    expect([still.width, still.height]).toEqual([20, 10]);
  });
});

/** The font file's advance width (in em) of one BMP character: cmap format 4 → glyph id → hmtx. */
function advanceOf(char: string): number {
  const f = readFileSync(FONT_FILE);
  const tables = new Map<string, number>();
  for (let i = 0; i < f.readUInt16BE(4); i++) tables.set(f.toString('latin1', 12 + 16 * i, 16 + 16 * i), f.readUInt32BE(20 + 16 * i));
  const cmap = tables.get('cmap') as number;
  const cp = char.charCodeAt(0);
  let glyph = 0;
  for (let i = 0; i < f.readUInt16BE(cmap + 2) && glyph === 0; i++) {
    if (f.readUInt16BE(cmap + 4 + 8 * i) !== 3 || f.readUInt16BE(cmap + 6 + 8 * i) !== 1) continue;
    const t = cmap + f.readUInt32BE(cmap + 8 + 8 * i);
    const n = f.readUInt16BE(t + 6) / 2;
    for (let s = 0; s < n; s++) {
      const end = f.readUInt16BE(t + 14 + 2 * s);
      const start = f.readUInt16BE(t + 16 + 2 * n + 2 * s);
      if (cp < start || cp > end) continue;
      const delta = f.readInt16BE(t + 16 + 4 * n + 2 * s);
      const rangeAt = t + 16 + 6 * n + 2 * s;
      const range = f.readUInt16BE(rangeAt);
      glyph = range === 0 ? (cp + delta) & 0xffff : f.readUInt16BE(rangeAt + range + 2 * (cp - start));
      break;
    }
  }
  const head = tables.get('head') as number;
  const hhea = tables.get('hhea') as number;
  const hmtx = tables.get('hmtx') as number;
  const metrics = f.readUInt16BE(hhea + 34);
  return f.readUInt16BE(hmtx + 4 * Math.min(glyph, metrics - 1)) / f.readUInt16BE(head + 18);
}

describe('golden images: text layer with the bundled font', () => {
  const W = 600;
  const H = 200;
  const white = () => sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } }).png().toBuffer();

  /** Columns holding ink (a channel below 128) in rows [y0, y1). */
  function inkColumns(data: Buffer, y0: number, y1: number, isInk: (p: number[]) => boolean): number[] {
    const cols: number[] = [];
    for (let x = 0; x < W; x++) {
      for (let y = y0; y < y1; y++) {
        const i = (y * W + x) * 4;
        if (isInk([data[i] as number, data[i + 1] as number, data[i + 2] as number])) {
          cols.push(x);
          break;
        }
      }
    }
    return cols;
  }

  test('glyph spacing follows the font file\'s advances, in the requested colour and size', async () => {
    // 'I' is one vertical stem: each glyph is one run of inked columns, one advance apart.
    const out = await render(await white(), 'f_png,txt_IIIIII,ts_60,tc_red');
    expect([out.width, out.height, out.meta.format]).toEqual([W, H, 'png']);
    const { data } = await rgba(out.body);
    const red = (p: number[]) => (p[0] as number) > 200 && (p[1] as number) < 90 && (p[2] as number) < 90;
    const cols = inkColumns(data, 0, H, red);
    const starts = cols.filter((x, i) => i === 0 || cols[i - 1] !== x - 1);
    expect(starts).toHaveLength(6);
    const advance = advanceOf('I') * 60;
    for (let i = 1; i < starts.length; i++) expect(Math.abs((starts[i] as number) - (starts[i - 1] as number) - advance)).toBeLessThanOrEqual(1.01);
    // Centred (default gravity): the ink's middle is the image's middle within a glyph's side bearing.
    const middle = ((starts[0] as number) + (cols[cols.length - 1] as number)) / 2;
    expect(Math.abs(middle - W / 2)).toBeLessThan(advance / 2);
    // Cap height of DejaVu Sans is 0.729 em: the stem is that tall.
    let rows = 0;
    for (let y = 0; y < H; y++) if (red([data[(y * W + (starts[0] as number) + 2) * 4] as number, data[(y * W + (starts[0] as number) + 2) * 4 + 1] as number, data[(y * W + (starts[0] as number) + 2) * 4 + 2] as number])) rows++;
    expect(Math.abs(rows - 0.729 * 60)).toBeLessThanOrEqual(2);
  });

  test('background box, gravity and offsets; dpr scales size and offsets (WebP)', async () => {
    const out = await render(await white(), 'f_webp,q_100,txt_Hi,ts_20,tc_white,tb_rgb:0000ff,tg_north_west,tx_10,ty_8');
    expect([out.width, out.height, out.meta.format]).toEqual([W, H, 'webp']);
    const { data } = await rgba(out.body);
    const at = (x: number, y: number) => [data[(y * W + x) * 4] as number, data[(y * W + x) * 4 + 1] as number, data[(y * W + x) * 4 + 2] as number];
    // The box starts at (10, 8); padding 5 px (a quarter of 20); left of and above it is the base.
    expect(at(11, 9)[2]).toBeGreaterThan(230);
    expect(at(11, 9)[0]).toBeLessThan(30);
    expect(Math.min(...at(8, 9))).toBeGreaterThan(240);
    expect(at(11, 6)[0]).toBeGreaterThan(240);
    // The box is as wide as the two glyphs' advances plus its padding, less the outer side bearings
    // (libvips crops the text raster to its ink; DejaVu's are about 2 px each at 20 px).
    const boxCols = inkColumns(data, 9, 10, (p) => (p[2] as number) > 200 && (p[0] as number) < 60);
    const width = (boxCols[boxCols.length - 1] as number) - (boxCols[0] as number) + 1;
    const advances = (advanceOf('H') + advanceOf('i')) * 20 + 10;
    expect(width).toBeLessThanOrEqual(advances + 1);
    expect(width).toBeGreaterThanOrEqual(advances - 6);
    // With dpr_2 the whole layer doubles: the box starts at (20, 16).
    const twice = await render(await sharp({ create: { width: 300, height: 100, channels: 3, background: '#fff' } }).png().toBuffer(), 'f_png,w_300,h_100,c_fill,dpr_2,txt_Hi,ts_20,tc_white,tb_rgb:0000ff,tg_north_west,tx_10,ty_8');
    expect([twice.width, twice.height]).toEqual([600, 200]);
    const d2 = (await rgba(twice.body)).data;
    const p = (x: number, y: number) => [d2[(y * W + x) * 4] as number, d2[(y * W + x) * 4 + 2] as number];
    expect(p(21, 17)[0]).toBeLessThan(30);
    expect(p(18, 17)[0]).toBeGreaterThan(240);
  });
});

describe('limits hold for layers', () => {
  test('the most expensive text (100 of the widest glyphs at ts_256 × dpr_4) is refused before it is drawn', async () => {
    const base = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: '#888' } }).png().toBuffer();
    expect(textBound('W'.repeat(100), 1024, 8192).pixels).toBeGreaterThan(limits.maxOutputPixels);
    await expect(render(base, `f_png,w_2000,dpr_4,txt_${'W'.repeat(100)},ts_256`)).rejects.toMatchObject({ code: 'INVALID_TRANSFORMATION', message: expect.stringContaining('txt') });
    // The same text at a size that fits is drawn, shrunk to the base's width.
    const ok = await render(base, `f_png,w_500,txt_${'W'.repeat(100)},ts_24`);
    expect([ok.width, ok.height]).toEqual([500, 250]);
    // One large glyph on a tiny image: bounded by one glyph, drawn, then shrunk to fit.
    const tiny = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#888' } }).png().toBuffer();
    expect([(await render(tiny, 'f_png,txt_x,dpr_4,ts_256,w_10')).width]).toEqual([10]);
  });

  test('a 1-px layer tiled over a 40 MP base renders in one composite, within the output bound', async () => {
    const base = await sharp({ create: { width: 8000, height: 5000, channels: 3, background: '#204060' } }).jpeg().toBuffer();
    const dot = await sharp({ create: { width: 1, height: 1, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0.5 } } }).png().toBuffer();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const out = await render(base, 'f_jpg,l_abcdef1,lg_tile', [layerOf(dot, { gravity: 'tile' })]);
      expect([out.width, out.height]).toEqual([8000, 5000]);
      const { data, info } = await sharp(out.body).extract({ left: 4000, top: 2500, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
      expect(info.width).toBe(1);
      // Half-white over #204060: every pixel is lifted.
      expect(data[0] as number).toBeGreaterThan(130);
    } finally {
      clearInterval(sampler);
    }
    // The base frame is 160 MB raw (40 MP × 4); a layer per tile would be gigabytes.
    expect(peak - before).toBeLessThan(1_200_000_000);
  });

  test('a layer source over MAX_INPUT_PIXELS is refused, not decoded', async () => {
    const base = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#888' } }).png().toBuffer();
    const huge = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } }).png().toBuffer();
    const parsed = parse('f_png,l_abcdef1');
    const probed = await probeImage(base, probeLimits);
    await expect(renderImage(base, probed, parsed.options, 'png', { ...limits, maxInputPixels: 1_000_000 }, undefined, undefined, [layerOf(huge)]))
      .rejects.toThrow(/pixel limit/);
  });
});
