import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { AppError } from '../../errors';
import type { ParseLimits } from './options';
import { parseColour, parseTransformation } from './parse';
import { DEFAULT_PRESETS, loadPresets } from './presets';

const limits: ParseLimits = { maxDimension: 8192, maxOutputPixels: 40_000_000 };
const presets = loadPresets(undefined, limits);
const parse = (segment: string, ext?: string) => parseTransformation(segment, ext, limits, presets);

/** Asserts a 400 INVALID_TRANSFORMATION naming `parameter`. */
function expectInvalid(segment: string, parameter: string, ext?: string) {
  let caught: unknown;
  try {
    parse(segment, ext);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe('INVALID_TRANSFORMATION');
  expect(err.status).toBe(400);
  expect(err.details?.parameter).toBe(parameter);
  expect(typeof err.details?.allowed).toBe('string');
  expect(err.message).toContain(parameter);
}

/** Per key: [valid segment, expected canonical], and invalid values. */
const CASES: Record<string, { valid: [string, string][]; invalid: string[] }> = {
  w: { valid: [['w_1', 'w_1'], ['w_8192', 'w_8192']], invalid: ['w_0', 'w_8193', 'w_-5', 'w_1.5', 'w_abc', 'w_'] },
  h: { valid: [['h_300', 'h_300']], invalid: ['h_0', 'h_99999', 'h_x'] },
  dpr: { valid: [['dpr_2', 'dpr_2'], ['dpr_1.5', 'dpr_1.5'], ['dpr_1', ''], ['dpr_4.0', 'dpr_4']], invalid: ['dpr_0.5', 'dpr_4.1', 'dpr_1.25', 'dpr_auto:2', 'dpr_Auto'] },
  c: {
    valid: [['c_fill', 'c_fill'], ['c_lfill', 'c_lfill'], ['c_fit', 'c_fit'], ['c_limit', ''], ['c_mfit', 'c_mfit'], ['c_pad', 'c_pad'],
      ['c_lpad', 'c_lpad'], ['c_scale', 'c_scale'], ['c_thumb', 'c_thumb'], ['c_crop,w_10', 'c_crop,w_10']],
    invalid: ['c_cover', 'c_FILL', 'c_crop'],
  },
  g: {
    valid: [['c_fill,g_north', 'c_fill,g_north'], ['c_pad,g_south_east', 'c_pad,g_south_east'], ['c_fill,g_center', 'c_fill'], ['c_fill,g_face', 'c_fill,g_auto'],
      ['c_lfill,g_entropy', 'c_lfill,g_entropy'], ['c_thumb,g_auto', 'c_thumb,g_auto'], ['c_crop,w_5,g_north', 'c_crop,g_north,w_5'], ['g_center', '']],
    // The content-aware gravities with a mode that cuts nothing by resizing: they were accepted, and the image centred.
    invalid: ['g_up', 'g_northeast', 'c_crop,w_5,g_auto', 'c_crop,w_5,g_face', 'c_pad,w_5,h_5,g_entropy', 'c_lpad,w_5,h_5,g_auto'],
  },
  x: { valid: [['x_10,c_crop,w_5', 'c_crop,w_5,x_10'], ['x_0', '']], invalid: ['x_-1', 'x_1.5', 'x_9999999'] },
  y: { valid: [['c_crop,h_5,y_7', 'c_crop,h_5,y_7']], invalid: ['y_-3', 'y_z'] },
  ar: { valid: [['ar_16:9', 'ar_1.7778'], ['ar_1.5', 'ar_1.5'], ['ar_1:1', 'ar_1']], invalid: ['ar_0:9', 'ar_16:0', 'ar_abc', 'ar_1000'] },
  q: { valid: [['q_1', 'q_1'], ['q_100', 'q_100'], ['q_auto', '']], invalid: ['q_0', 'q_101', 'q_high'] },
  f: {
    valid: [['f_webp', 'f_webp'], ['f_avif', 'f_avif'], ['f_jpg', 'f_jpeg'], ['f_jpeg', 'f_jpeg'], ['f_png', 'f_png'], ['f_gif', 'f_gif'], ['f_auto', '']],
    invalid: ['f_bmp', 'f_tiff', 'f_WEBP'],
  },
  a: { valid: [['a_90', 'a_90'], ['a_-90', 'a_270'], ['a_360', ''], ['a_45', 'a_45'], ['a_auto', '']], invalid: ['a_1.5', 'a_9999', 'a_left'] },
  fl: {
    valid: [['fl_vflip.hflip', 'fl_hflip.vflip'], ['fl_progressive', 'fl_progressive'], ['fl_keep_icc', 'fl_keep_icc']],
    invalid: ['fl_mirror', 'fl_hflip.hflip', 'fl_hflip.'],
  },
  b: {
    valid: [['b_white', 'b_rgb:ffffff'], ['b_transparent', 'b_rgb:00000000'], ['b_rgb:FF000080', 'b_rgb:ff000080'], ['b_%23abc', 'b_rgb:aabbcc'], ['b_%2300ff00cc', 'b_rgb:00ff00cc']],
    invalid: ['b_notacolour', 'b_rgb:12345', 'b_%23ab'],
  },
  r: { valid: [['r_20', 'r_20'], ['r_max', 'r_max'], ['r_0', '']], invalid: ['r_-1', 'r_round', 'r_99999'] },
  e: {
    valid: [['e_grayscale', 'e_grayscale'], ['e_negate.blur:5', 'e_blur:5.negate'], ['e_sharpen', 'e_sharpen'], ['e_sharpen:30', 'e_sharpen:30'],
      ['e_pixelate:10', 'e_pixelate:10'], ['e_trim', 'e_trim'], ['e_trim:20', 'e_trim:20'], ['e_sepia', 'e_sepia']],
    invalid: ['e_blur', 'e_blur:0', 'e_blur:2001', 'e_pixelate:1', 'e_grayscale:3', 'e_glow', 'e_sepia.sepia', 'e_blur:2:3'],
  },
  exp: { valid: [['exp_1893456000', '']], invalid: ['exp_soon', 'exp_-1'] },
  t: { valid: [['t_small', 'c_limit,w_480'.replace('c_limit,', '')]], invalid: ['t_nope', 't_'] },
};

describe('transformation parser (TRANSFORMS.md grammar)', () => {
  for (const [key, { valid, invalid }] of Object.entries(CASES)) {
    test(`${key}: valid values canonicalise, invalid ones name the parameter`, () => {
      for (const [segment, canonical] of valid) expect(parse(segment).canonical).toBe(canonical);
      for (const segment of invalid) expectInvalid(segment, key);
    });
  }

  test('unknown keys, empty parameters and duplicates are refused', () => {
    expectInvalid('width_100', 'width');
    expectInvalid('w_100,,h_5', '(empty)');
    expectInvalid('w_100,w_200', 'w');
    expectInvalid('toString_1', 'toString');
    expectInvalid('constructor_1', 'constructor');
    expectInvalid('__proto___1', '__proto___1');
  });

  test('exp is kept apart from the canonical form', () => {
    const p = parse('w_100,exp_1893456000');
    expect(p.exp).toBe(1893456000);
    expect(p.canonical).toBe('w_100');
  });

  test('the extension sets the format unless f_ is given, f_auto included', () => {
    expect(parse('w_10', 'webp').options.f).toBe('webp');
    expect(parse('w_10', 'JPG').options.f).toBe('jpeg');
    expect(parse('w_10,f_png', 'webp').options.f).toBe('png');
    expect(parse('w_10,f_auto', 'webp').options.f).toBeUndefined();
    expectInvalid('w_10', 'ext', 'exe');
    // A video's renditions are named too (`.mkv` was told only the image formats).
    expect(() => parse('w_10', 'mkv')).toThrow('webp, avif, jpg, jpeg, png, gif (a video\'s renditions: mp4, webm)');
  });

  test('an extension named after an Object property is a 400 and leaves Object.prototype alone', () => {
    // `.__proto__` used to find Object.prototype as the format, which deepFreeze then froze for the whole process.
    for (const ext of ['__proto__', 'constructor', 'toString', 'valueOf', '__PROTO__']) expectInvalid('w_10', 'ext', ext);
    expect(Object.isFrozen(Object.prototype)).toBe(false);
    expect(Object.isFrozen(Object)).toBe(false);
  });

  test('presets expand, and URL keys override them', () => {
    const thumb = parse('t_thumb');
    expect(thumb.canonical).toBe('c_fill,g_auto,h_200,w_200');
    expect(thumb.preset).toBe('thumb');
    expect(parse('t_thumb,w_100').canonical).toBe('c_fill,g_auto,h_200,w_100');
    expect(parse('t_og').options.f).toBe('jpeg');
    expect(parse('t_og,f_auto').options.f).toBeUndefined();
    expect(parse('t_thumb,c_limit').options.c).toBeUndefined();
  });

  test('presetOnly marks what the presets policy allows unsigned', () => {
    expect(parse('t_thumb').presetOnly).toBe(true);
    expect(parse('t_thumb,dpr_2,f_auto').presetOnly).toBe(true);
    expect(parse('t_thumb,f_png').presetOnly).toBe(false);
    expect(parse('t_thumb,w_5').presetOnly).toBe(false);
  });

  test('keys the URL writes that would change nothing are refused, naming what they need', () => {
    expectInvalid('w_300,x_10', 'x');
    expectInvalid('w_300,y_10', 'y');
    expectInvalid('w_300,g_north', 'g');
    expectInvalid('c_fit,w_300,h_300,g_auto', 'g');
    expectInvalid('c_crop,w_10,x_5,g_east', 'g');
    expectInvalid('w_400,f_gif,q_10', 'q');
    expectInvalid('w_400,q_10', 'q', 'gif');
    expectInvalid('w_400,f_webp,fl_progressive', 'fl');
    expectInvalid('w_300,h_200,ar_16:9', 'ar');
    expectInvalid('c_fill,w_300,h_200,ar_1.5', 'ar');
    expectInvalid('c_fill,w_auto,h_200,ar_1.5', 'ar');
    expect(parse('c_fill,w_300,ar_1.5').options.ar).toBe(1.5);
    // What they are for still works; a preset's idle key is not the caller's doing.
    expect(parse('c_crop,w_10,h_10,x_5,y_5').canonical).toBe('c_crop,h_10,w_10,x_5,y_5');
    expect(parse('w_400,f_jpg,fl_progressive,q_60').options.q).toBe(60);
    expect(parse('w_400,fl_progressive').options.fl).toEqual(['progressive']);
    expect(parse('t_thumb,c_limit').options.g).toBe('auto');
  });

  test('cross-key limits: output size and c_crop', () => {
    expectInvalid('w_5000,dpr_2', 'w');
    expectInvalid('w_8000,h_8000', 'w');
    expect(parse('w_4000,h_4000,dpr_1.5').options.dpr).toBe(1.5);
  });

  test('parsed options are immutable', () => {
    const p = parse('w_10,fl_hflip');
    expect(Object.isFrozen(p.options)).toBe(true);
    expect(Object.isFrozen(p.options.fl)).toBe(true);
  });

  test('canonical form is independent of parameter order', () => {
    const params = ['w_300', 'h_200', 'g_north_west', 'q_70', 'f_webp', 'e_grayscale.blur:3', 'fl_hflip', 'r_12', 'b_red', 'a_90', 'dpr_2'];
    fc.assert(
      fc.property(fc.shuffledSubarray(params, { minLength: 1 }).map((p) => ['c_fill', ...p]), fc.integer(), (subset, seed) => {
        const shuffled = [...subset].sort(() => ((seed = (seed * 1103515245 + 12345) | 0) & 1 ? 1 : -1));
        const a = parse(subset.join(','));
        const b = parse(shuffled.join(','));
        expect(b.canonical).toBe(a.canonical);
        expect(b.options).toEqual(a.options);
        // The canonical form parses back to itself.
        if (a.canonical) expect(parse(a.canonical).canonical).toBe(a.canonical);
      }),
      { numRuns: 300 },
    );
  });

  test('random strings never throw anything but INVALID_TRANSFORMATION', () => {
    const keys = ['w', 'h', 'dpr', 'c', 'g', 'x', 'y', 'ar', 'q', 'f', 'a', 'fl', 'b', 'r', 'e', 'exp', 't', 'o', 'bo', 'pd', 'd', 'zz', ''];
    // Values built from the #24 grammar's own pieces (adjustments, border, padding, auto), so that near-misses are tried too.
    const near = fc.constantFrom('auto', 'auto:', 'auto:400', 'blurred', 'blurred:', 'brightness', 'contrast:-', 'tint:5:', 'tint:5:rgb:', 'colorize.tint',
      'vignette:-0', 'gamma:-', '5px_solid_', '5px_solid_rgb:', 'px_solid_red', '1:2:3:4:', '::', '-0', '1:-1');
    const piece = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.tuple(fc.constantFrom(...keys), near).map(([k, v]) => `${k}_${v}`),
      fc.tuple(fc.constantFrom(...keys), fc.oneof(fc.string({ maxLength: 10 }), fc.integer().map(String), fc.double().map(String)))
        .map(([k, v]) => `${k}_${v}`),
    );
    const step = fc.array(piece, { maxLength: 8 }).map((p) => p.join(','));
    const segment = fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'binary', maxLength: 40 }), step,
      // Chains: steps joined by `/`, sometimes too many, empty or encoded.
      fc.array(step, { minLength: 2, maxLength: 7 }).map((p) => p.join('/')), fc.array(step, { maxLength: 3 }).map((p) => p.join('%2F')));
    fc.assert(
      fc.property(segment, fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), (s, ext) => {
        try {
          const p = parse(s, ext);
          expect(typeof p.canonical).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe('INVALID_TRANSFORMATION');
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('colours and presets', () => {
  test("a colour named after an Object property is a 400, not a 500 (b___proto__ found Object.prototype)", () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(parseColour(name)).toBeUndefined();
      expectInvalid(`b_${name}`, 'b');
      expectInvalid(`txt_a,tc_${name}`, 'tc');
      expectInvalid(`txt_a,tb_${name}`, 'tb');
    }
  });

  test('parseColour reads every documented form', () => {
    expect(parseColour('#fff')).toEqual({ r: 255, g: 255, b: 255, alpha: 255 });
    expect(parseColour('#0f08')).toEqual({ r: 0, g: 255, b: 0, alpha: 136 });
    expect(parseColour('rgb:10203040')).toEqual({ r: 16, g: 32, b: 48, alpha: 64 });
    expect(parseColour('transparent')?.alpha).toBe(0);
    expect(parseColour('rgb:1020')).toBeUndefined();
  });

  test('PRESETS overrides and adds; invalid presets stop start-up with a readable error', () => {
    const custom = loadPresets('{"hero":"w_1600,c_limit","thumb":{"transformation":"w_100,h_100,c_fill","eager":true}}', limits);
    expect(custom.get('hero')?.transformation).toBe('w_1600,c_limit');
    expect(custom.get('thumb')?.eager).toBe(true);
    expect(custom.size).toBe(DEFAULT_PRESETS.length + 1);
    expect(() => loadPresets('{"bad":"w_99999"}', limits)).toThrow(/PRESETS.bad/);
    expect(() => loadPresets('{"loop":"t_thumb"}', limits)).toThrow(/PRESETS.loop/);
    expect(() => loadPresets('{not json', limits)).toThrow(/not valid JSON/);
    // A mistyped key or a non-boolean eager made a lazy preset without a word.
    expect(() => loadPresets('{"mythumb":{"transformation":"w_50","eagr":true}}', limits)).toThrow(/PRESETS.mythumb: unknown key "eagr"/);
    expect(() => loadPresets('{"mythumb":{"transformation":"w_50","eager":"yes"}}', limits)).toThrow(/PRESETS.mythumb.eager must be true or false/);
  });

  test('a built-in preset over a lowered MAX_DIMENSION names MAX_DIMENSION, not PRESETS (which was not set)', () => {
    const small = { ...limits, maxDimension: 1200 };
    let caught: unknown;
    try {
      loadPresets(undefined, small);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ variable: 'MAX_DIMENSION', message: expect.stringContaining('The built-in preset large (w_2048,c_limit,f_auto) does not fit MAX_DIMENSION=1200') });
    // Replacing the presets that exceed it is the way to run with a lower limit.
    expect(loadPresets('{"large":"w_1200,c_limit,f_auto"}', small).get('large')?.transformation).toBe('w_1200,c_limit,f_auto');
  });
});
