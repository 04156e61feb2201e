/**
 * The #24 grammar: adjustments in `e_`, `o_`, `bo_`, `pd_`, `b_blurred`, `d_`, `w_auto`,
 * `dpr_auto` (valid values canonicalise, invalid ones name the parameter), the canonical order
 * inside a step, chains (canonicalisation, per-step rules), and the Client Hints substitution
 * (hints.ts: rounding steps and the number of variants they allow).
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { AppError } from '../../errors';
import { applyHints, readHints, stepDpr } from './hints';
import { canonicalAccept, chooseFormat } from './negotiate';
import type { ParseLimits } from './options';
import { MAX_CHAIN_STEPS, parseTransformation } from './parse';
import { loadPresets } from './presets';

const limits: ParseLimits = { maxDimension: 8192, maxOutputPixels: 40_000_000 };
const presets = loadPresets('{"framed":"bo_4px_solid_black,pd_8"}', limits);
const parse = (segment: string, ext?: string) => parseTransformation(segment, ext, limits, presets);

function expectInvalid(segment: string, parameter: string) {
  let caught: unknown;
  try {
    parse(segment);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe('INVALID_TRANSFORMATION');
  expect((caught as AppError).details?.parameter).toBe(parameter);
}

const CASES: Record<string, { valid: [string, string][]; invalid: string[] }> = {
  e: {
    valid: [
      ['e_brightness', 'e_brightness:80'], ['e_brightness:-99', 'e_brightness:-99'], ['e_brightness:100', 'e_brightness:100'],
      ['e_contrast:-100', 'e_contrast:-100'], ['e_saturation', 'e_saturation:80'], ['e_saturation:-100', 'e_saturation:-100'],
      ['e_hue', 'e_hue:80'], ['e_hue:-100', 'e_hue:-100'], ['e_gamma:-50', 'e_gamma:-50'], ['e_gamma:150', 'e_gamma:150'],
      ['e_tint', 'e_tint:60:rgb:ff0000'], ['e_tint:30', 'e_tint:30:rgb:ff0000'], ['e_tint:30:blue', 'e_tint:30:rgb:0000ff'],
      ['e_tint:30:rgb:00FF00', 'e_tint:30:rgb:00ff00'], ['e_colorize:10:white', 'e_tint:10:rgb:ffffff'], ['e_vignette', 'e_vignette:20'],
      ['e_vignette:0', 'e_vignette:0'],
    ],
    invalid: ['e_contrast', 'e_gamma', 'e_brightness:-100', 'e_brightness:101', 'e_contrast:101', 'e_gamma:-51', 'e_gamma:151',
      'e_hue:-101', 'e_saturation:1.5', 'e_tint:101', 'e_tint:50:nocolour', 'e_tint:50:rgb:ff000080', 'e_vignette:101',
      'e_vignette:-1', 'e_brightness.brightness:5', 'e_tint.colorize', 'e_hue:--5', 'e_hue:-', 'e_brightness:5:6'],
  },
  o: { valid: [['o_0', 'o_0'], ['o_50', 'o_50'], ['o_100', '']], invalid: ['o_101', 'o_-1', 'o_50.5', 'o_half', 'o_'] },
  bo: {
    valid: [['bo_5px_solid_black', 'bo_5px_solid_rgb:000000'], ['bo_1000px_solid_rgb:ff000080', 'bo_1000px_solid_rgb:ff000080'],
      ['bo_2px_solid_%23abc', 'bo_2px_solid_rgb:aabbcc']],
    invalid: ['bo_0px_solid_red', 'bo_1001px_solid_red', 'bo_5px_dashed_red', 'bo_5_solid_red', 'bo_5px_solid_', 'bo_5px_solid_nocolour', 'bo_5px'],
  },
  pd: {
    valid: [['pd_10', 'pd_10'], ['pd_10:20', 'pd_10:20:10:20'], ['pd_1:2:3', 'pd_1:2:3:2'], ['pd_1:2:3:4', 'pd_1:2:3:4'], ['pd_5:5:5:5', 'pd_5'], ['pd_0', '']],
    invalid: ['pd_1:2:3:4:5', 'pd_-1', 'pd_1.5', 'pd_:', 'pd_8193', 'pd_a'],
  },
  b: {
    valid: [['b_blurred,c_pad,w_10,h_10', 'b_blurred:100,c_pad,h_10,w_10'], ['b_blurred:2000,pd_4', 'b_blurred:2000,pd_4'], ['b_blurred:1,c_lpad,w_5', 'b_blurred:1,c_lpad,w_5']],
    invalid: ['b_blurred', 'b_blurred,w_100', 'b_blurred:0,pd_1', 'b_blurred:2001,pd_1', 'b_blurred:x,pd_1'],
  },
  d: { valid: [['d_abc-_9', 'd_abc-_9'], ['d_' + 'x'.repeat(64), 'd_' + 'x'.repeat(64)]], invalid: ['d_', 'd_a.b', 'd_' + 'x'.repeat(65), 'd_a%20b'] },
  w: { valid: [['w_auto', 'w_auto'], ['w_auto:400', 'w_auto:400']], invalid: ['w_auto:0', 'w_auto:8193', 'w_auto:', 'w_automatic', 'w_auto,c_crop,h_10'] },
  dpr: { valid: [['dpr_auto', 'dpr_auto']], invalid: ['dpr_auto:2', 'dpr_AUTO'] },
};

describe('#24 keys', () => {
  for (const [key, { valid, invalid }] of Object.entries(CASES)) {
    test(`${key}: valid values canonicalise (and parse back to themselves), invalid ones name the parameter`, () => {
      for (const [segment, canonical] of valid) {
        expect(parse(segment).canonical).toBe(canonical);
        if (canonical) expect(parse(canonical).canonical).toBe(canonical);
      }
      for (const segment of invalid) expectInvalid(segment, segment.startsWith('w_auto,') ? 'w' : key);
    });
  }

  test('canonical order inside a step: keys sorted, adjustments in their fixed order, whatever was written', () => {
    const params = ['e_vignette.tint:5:blue.gamma:10.hue.contrast:5.saturation:-5.brightness:3', 'o_40', 'bo_2px_solid_red', 'pd_1:2', 'w_300', 'dpr_auto', 'd_fallback1', 'b_blurred:50'];
    const canonical = 'b_blurred:50,bo_2px_solid_rgb:ff0000,d_fallback1,dpr_auto,e_gamma:10.saturation:-5.hue:80.brightness:3.contrast:5.tint:5:rgb:0000ff.vignette:20,o_40,pd_1:2:1:2,w_300';
    fc.assert(fc.property(fc.shuffledSubarray(params, { minLength: params.length, maxLength: params.length }), (shuffled) => {
      expect(parse(shuffled.join(',')).canonical).toBe(canonical);
    }), { numRuns: 100 });
    expect(parse(canonical).canonical).toBe(canonical);
  });

  test('a preset\'s border and padding are overridden by the URL, b_blurred replaces a preset colour and the reverse', () => {
    expect(parse('t_framed').canonical).toBe('bo_4px_solid_rgb:000000,pd_8');
    expect(parse('t_framed,pd_0').canonical).toBe('bo_4px_solid_rgb:000000');
    expect(parse('t_framed,b_blurred').canonical).toBe('b_blurred:100,bo_4px_solid_rgb:000000,pd_8');
  });

  test('padding and border that cannot fit the limits are refused by the parser', () => {
    expectInvalid('pd_4096:0:4097:0', 'pd');
    expectInvalid('bo_1000px_solid_red,dpr_4.1', 'dpr');
    expectInvalid('bo_1000px_solid_red,dpr_4.5', 'dpr');
    expectInvalid('pd_3000,bo_1000px_solid_red,dpr_2', 'pd');
  });
});

test('f_auto for a client without WebP keeps o_\'s transparency (PNG), as for r_', () => {
  const opaque = { hasAlpha: false, animated: false };
  expect(chooseFormat(parse('o_50').options, 'image/jpeg', true, opaque)).toBe('png');
  expect(chooseFormat(parse('w_5').options, 'image/jpeg', true, opaque)).toBe('jpeg');
});

test('an Accept header and its canonical form choose the same format (the fast path keys its memo by the latter)', () => {
  const token = fc.constantFrom('image/avif', 'image/webp', 'image/png', 'image/*', '*/*', 'image/apng', 'q=0.8', ';', ',', ' ', 'avif', 'webp', 'image/');
  const facts = fc.record({ hasAlpha: fc.option(fc.boolean(), { nil: undefined }), animated: fc.option(fc.boolean(), { nil: undefined }) });
  const options = fc.constantFrom('w_5', 'w_5,r_4', 'w_5,f_png', 'o_50').map((s) => parse(s).options);
  fc.assert(
    fc.property(fc.array(token, { maxLength: 12 }).map((t) => t.join('')), options, fc.boolean(), facts, (accept, o, autoAvif, f) => {
      expect(chooseFormat(o, canonicalAccept(accept), autoAvif, f)).toBe(chooseFormat(o, accept, autoAvif, f));
    }),
    { numRuns: 2000 },
  );
  expect(canonicalAccept(`image/webp,${'x'.repeat(8000)}`)).toBe('image/webp');
});

describe('chains', () => {
  test('steps keep their own options and order; the canonical form joins canonical steps with /', () => {
    const p = parse('w_400,c_fill,h_300/e_brightness:20,bo_5px_solid_black/f_webp');
    expect(p.canonical).toBe('c_fill,h_300,w_400/bo_5px_solid_rgb:000000,e_brightness:20/f_webp');
    expect(p.steps?.map((s) => s.w)).toEqual([400, undefined]);
    expect(p.options.f).toBe('webp');
    // The order of steps matters; the order inside a step does not.
    expect(parse('e_negate/w_10').canonical).not.toBe(parse('w_10/e_negate').canonical);
    expect(parse('h_300,c_fill,w_400/e_brightness:20').canonical).toBe(parse('c_fill,w_400,h_300/e_brightness:20').canonical);
  });

  test('steps that change nothing are dropped; a chain of one step is that step', () => {
    expect(parse('f_auto/w_10/a_0').canonical).toBe('w_10');
    expect(parse('w_10/f_auto').canonical).toBe('w_10');
    expect(parse('a_360/w_10').canonical).toBe('w_10');
    expect(parse('a_360/w_10').steps).toBeUndefined();
    expect(parse('q_auto/f_auto').canonical).toBe('');
  });

  test('the extension and output keys belong to the last step', () => {
    expect(parse('w_10/e_negate', 'png').options.f).toBe('png');
    expectInvalid('f_webp/w_10', 'f');
    expectInvalid('q_50/w_10', 'q');
    expectInvalid('d_x/w_10', 'd');
    expectInvalid('w_auto/w_10', 'w');
    expectInvalid('dpr_auto/w_10', 'dpr');
    expectInvalid('so_1/w_10', 'so');
    expectInvalid('w_10/so_1', 'transformations');
  });

  test('exp is read from the last step, and a chain is presets-only only when every step is', () => {
    expect(parse('w_10/e_negate,exp_1893456000').exp).toBe(1893456000);
    expectInvalid('exp_1893456000/w_10', 'exp');
    expect(parse('t_thumb/t_small').presetOnly).toBe(true);
    expect(parse('t_thumb/w_5').presetOnly).toBe(false);
  });

  test(`at most ${MAX_CHAIN_STEPS} steps; empty steps and encoded slashes are refused`, () => {
    expect(parse(Array.from({ length: MAX_CHAIN_STEPS }, (_, i) => `w_${i + 10}`).join('/')).steps).toHaveLength(MAX_CHAIN_STEPS);
    expectInvalid(Array.from({ length: MAX_CHAIN_STEPS + 1 }, () => 'w_10').join('/'), 'transformations');
    expectInvalid('w_10//w_20', 'transformations');
    expectInvalid('w_10/', 'transformations');
    // Said as such: it was told "1 to 1024 characters".
    expect(() => parse('w_100//h_5')).toThrow('steps joined by one "/", none empty');
    expectInvalid('w_10%2Fe_negate', 'transformations');
  });

  test('the canonical form of a chain parses back to itself', () => {
    const steps = ['w_300,c_fill,h_200', 'e_hue:20.brightness', 'bo_3px_solid_red,pd_2:4', 'a_90', 'o_50,f_png'];
    fc.assert(fc.property(fc.subarray(steps, { minLength: 2 }), (chosen) => {
      const a = parse(chosen.join('/'));
      expect(parse(a.canonical, a.options.f === 'png' ? 'png' : undefined).canonical).toBe(a.canonical);
    }), { numRuns: 50 });
  });
});

describe('Client Hints (w_auto, dpr_auto)', () => {
  test('headers are read with Sec-CH- first; malformed values are ignored', () => {
    const h = (m: Record<string, string>) => readHints((n) => m[n]);
    expect(h({ 'sec-ch-dpr': '2', dpr: '3', width: '800' })).toEqual({ dpr: 2, width: 800 });
    expect(h({ dpr: 'x', 'sec-ch-width': '-5' })).toEqual({});
  });

  test('DPR rounds up to 0.5 steps within 1..4; widths to 50 CSS px, capped by the limits', () => {
    expect([0.5, 1, 1.1, 1.5, 2, 2.2, 2.625, 3, 3.5, 9].map(stepDpr)).toEqual([1, 1, 1.5, 1.5, 2, 2.5, 3, 3, 3.5, 4]);
    const p = parse('w_auto,dpr_auto');
    expect(applyHints(p, { width: 800, dpr: 2 }, limits).canonical).toBe('dpr_2,w_400');
    expect(applyHints(p, { width: 801, dpr: 2 }, limits).canonical).toBe('dpr_2,w_450');
    expect(applyHints(p, { width: 10_000_000, dpr: 4 }, limits).canonical).toBe('dpr_4,w_2000');
    expect(applyHints(p, {}, limits).canonical).toBe('');
    expect(applyHints(parse('w_auto:640'), {}, limits).canonical).toBe('w_640');
    expect(applyHints(parse('w_auto:640,dpr_2'), { width: 1000 }, limits).canonical).toBe('dpr_2,w_500');
    // A written h keeps the pixel budget: never a 400 from a header.
    expect(applyHints(parse('w_auto,h_8000,c_fill'), { width: 8192 }, limits).options.w).toBe(5000);
  });

  test('any DPR and width give at most 7 DPR variants, and widths on the 50 px grid', () => {
    const p = parse('w_auto,dpr_auto');
    const canonicals = new Set<string>();
    fc.assert(fc.property(fc.double({ min: 0.1, max: 10, noNaN: true }), fc.integer({ min: 1, max: 3000 }), (dpr, width) => {
      const r = applyHints(p, { dpr, width }, limits);
      expect(((r.options.w ?? 0) % 50)).toBe(0);
      canonicals.add(String(r.options.dpr ?? 1));
    }), { numRuns: 500 });
    expect(canonicals.size).toBeLessThanOrEqual(7);
  });
});
