/**
 * The transformation parser: one pure, table-driven function from the URL segment
 * (`w_400,h_300,c_fill`) and optional extension to immutable, canonical options.
 *
 * Every key has one row in `PARAMETERS`: the text shown to the client when the value is wrong
 * and a `read` function that returns the value or `undefined` for "malformed". Anything wrong
 * throws 400 `INVALID_TRANSFORMATION` naming the parameter and the allowed values; nothing
 * else is ever thrown (a property test feeds it random strings).
 */
import { invalidTransformation } from '../../errors';
import {
  CROP_MODES, EFFECT_ORDER, FLAGS, FORMATS, GRAVITIES,
  type CropMode, type Effect, type EffectName, type Flag, type Format, type Gravity, type OutputFormat,
  type ParsedTransformation, type ParseLimits, type Preset, type Rgba, type TransformOptions,
} from './options';
import { checkLayerCombination, formatLayerValue, layerParameters } from './layer-grammar';

/** A segment longer than this is refused outright (no legitimate URL needs it). */
const MAX_SEGMENT_LENGTH = 1024;
const MAX_OFFSET = 1_000_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Options = Mutable<TransformOptions> & { exp?: number; t?: string };

interface ParamSpec {
  allowed: (limits: ParseLimits) => string;
  /** Returns the parsed value (or `null` for "valid, but the default": dropped), `undefined` if malformed. */
  read: (raw: string, limits: ParseLimits, presets: ReadonlyMap<string, Preset>) => unknown;
}

const intIn = (raw: string, min: number, max: number): number | undefined => {
  if (!/^\d{1,11}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};

const oneOf = <T extends string>(values: readonly T[], raw: string): T | undefined =>
  (values as readonly string[]).includes(raw) ? (raw as T) : undefined;

/** Named colours accepted by `b_`; anything else is written as hex. */
const COLOUR_NAMES: Record<string, string> = {
  white: 'ffffff', black: '000000', red: 'ff0000', green: '008000', blue: '0000ff', yellow: 'ffff00',
  cyan: '00ffff', magenta: 'ff00ff', gray: '808080', grey: '808080', silver: 'c0c0c0', orange: 'ffa500',
  purple: '800080', pink: 'ffc0cb', brown: 'a52a2a', transparent: '00000000',
};

/** Parses `transparent`, a colour name, `rgb:RRGGBB[AA]`, `#RGB[A]` or `#RRGGBB[AA]`. */
export function parseColour(raw: string): Rgba | undefined {
  const lower = raw.toLowerCase();
  let hex = COLOUR_NAMES[lower];
  if (hex === undefined) {
    const m = /^(?:rgb:|#)([0-9a-f]+)$/.exec(lower);
    if (!m?.[1]) return undefined;
    hex = m[1];
    if (lower.startsWith('#') && (hex.length === 3 || hex.length === 4)) hex = [...hex].map((c) => c + c).join('');
    if (hex.length !== 6 && hex.length !== 8) return undefined;
  }
  const byte = (i: number) => parseInt(hex.slice(i, i + 2), 16);
  return { r: byte(0), g: byte(2), b: byte(4), alpha: hex.length === 8 ? byte(6) : 255 };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');
const formatColour = (c: Rgba) => `rgb:${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}${c.alpha === 255 ? '' : hex2(c.alpha)}`;

const EFFECT_RANGES: Record<EffectName, { min: number; max: number } | null> = {
  blur: { min: 1, max: 2000 }, sharpen: { min: 1, max: 2000 }, pixelate: { min: 2, max: 200 },
  trim: { min: 0, max: 100 }, grayscale: null, sepia: null, negate: null,
};
/** Effects whose amount may be omitted. */
const OPTIONAL_AMOUNT = new Set<EffectName>(['sharpen', 'trim']);

function readEffects(raw: string): Effect[] | undefined {
  const seen = new Set<string>();
  const out: Effect[] = [];
  for (const part of raw.split('.')) {
    const [name, amountText, extra] = part.split(':');
    const effect = oneOf(EFFECT_ORDER, name ?? '');
    if (!effect || extra !== undefined || seen.has(effect)) return undefined;
    seen.add(effect);
    const range = EFFECT_RANGES[effect];
    if (amountText === undefined) {
      if (range && !OPTIONAL_AMOUNT.has(effect)) return undefined;
      out.push({ name: effect });
      continue;
    }
    if (!range) return undefined;
    const amount = intIn(amountText, range.min, range.max);
    if (amount === undefined) return undefined;
    out.push({ name: effect, amount });
  }
  return out.sort((a, b) => EFFECT_ORDER.indexOf(a.name) - EFFECT_ORDER.indexOf(b.name));
}

function readFlags(raw: string): Flag[] | undefined {
  const flags = raw.split('.');
  if (new Set(flags).size !== flags.length) return undefined;
  if (!flags.every((f) => oneOf(FLAGS, f))) return undefined;
  return (flags as Flag[]).sort();
}

function readAspectRatio(raw: string): number | undefined {
  const ratio = /^(\d{1,5}):(\d{1,5})$/.exec(raw);
  const value = ratio ? Number(ratio[1]) / Number(ratio[2]) : /^\d{1,5}(\.\d{1,4})?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < 0.01 || value > 100) return undefined;
  return Math.round(value * 10_000) / 10_000;
}

/** Seconds with at most 3 decimals, `min` to 86400 (a day). */
const seconds = (raw: string, min: number): number | undefined => {
  if (!/^\d{1,5}(\.\d{1,3})?$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= 86_400 ? n : undefined;
};

/** Bits per second written as `800k`, `2m` or a plain integer; 10k to 100m. */
function readBitRate(raw: string): number | undefined {
  const m = /^(\d{1,9})([km]?)$/.exec(raw.toLowerCase());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] === 'k' ? 1000 : m[2] === 'm' ? 1_000_000 : 1);
  return n >= 10_000 && n <= 100_000_000 ? n : undefined;
}

/** The grammar of TRANSFORMS.md, one row per key. */
const PARAMETERS: Record<string, ParamSpec> = {
  w: { allowed: (l) => `an integer from 1 to ${l.maxDimension}`, read: (v, l) => intIn(v, 1, l.maxDimension) },
  h: { allowed: (l) => `an integer from 1 to ${l.maxDimension}`, read: (v, l) => intIn(v, 1, l.maxDimension) },
  dpr: {
    allowed: () => 'a number from 1 to 4 with at most one decimal',
    read: (v) => {
      if (!/^\d(\.\d)?$/.test(v)) return undefined;
      const n = Number(v);
      return n < 1 || n > 4 ? undefined : n === 1 ? null : n;
    },
  },
  c: { allowed: () => CROP_MODES.join(', '), read: (v) => (v === 'limit' ? null : oneOf(CROP_MODES, v)) },
  g: {
    allowed: () => GRAVITIES.join(', '),
    read: (v) => (v === 'center' ? null : v === 'face' ? 'auto' : oneOf(GRAVITIES, v)),
  },
  x: { allowed: () => `an integer from 0 to ${MAX_OFFSET}`, read: (v) => nullIfZero(intIn(v, 0, MAX_OFFSET)) },
  y: { allowed: () => `an integer from 0 to ${MAX_OFFSET}`, read: (v) => nullIfZero(intIn(v, 0, MAX_OFFSET)) },
  ar: { allowed: () => 'a ratio such as 16:9 or a decimal such as 1.5 (0.01 to 100)', read: readAspectRatio },
  q: { allowed: () => 'an integer from 1 to 100, or auto', read: (v) => (v === 'auto' ? null : intIn(v, 1, 100)) },
  f: {
    allowed: () => `${FORMATS.join(', ')} (jpg is an alias of jpeg)`,
    // `auto` is kept while parsing (it must beat the extension) and dropped at the end.
    read: (v) => oneOf(FORMATS, v === 'jpg' ? 'jpeg' : v),
  },
  a: {
    allowed: () => 'an integer number of degrees (-3600 to 3600), or auto',
    read: (v) => {
      if (v === 'auto') return null;
      if (!/^-?\d{1,4}$/.test(v) || Math.abs(Number(v)) > 3600) return undefined;
      const deg = ((Number(v) % 360) + 360) % 360;
      return deg === 0 ? null : deg;
    },
  },
  fl: { allowed: () => `one or more of ${FLAGS.join(', ')}, joined by "."`, read: readFlags },
  b: { allowed: () => 'transparent, a colour name, rgb:RRGGBB[AA], #RGB[A] or #RRGGBB[AA]', read: parseColour },
  r: {
    allowed: (l) => `an integer from 0 to ${l.maxDimension}, or max`,
    read: (v, l) => (v === 'max' ? 'max' : nullIfZero(intIn(v, 0, l.maxDimension))),
  },
  e: {
    allowed: () =>
      'blur:<1-2000>, sharpen[:<1-2000>], grayscale, sepia, negate, pixelate:<2-200>, trim[:<0-100>], joined by "."',
    read: readEffects,
  },
  so: { allowed: () => 'seconds from the start of a video, 0 to 86400, at most 3 decimals', read: (v) => seconds(v, 0) },
  eo: { allowed: () => 'seconds from the start of a video, 0.001 to 86400, at most 3 decimals', read: (v) => seconds(v, 0.001) },
  ac: { allowed: () => 'none (drop the audio track)', read: (v) => (v === 'none' ? 'none' : undefined) },
  fps: {
    allowed: () => 'a frame rate from 1 to 120, at most 3 decimals',
    read: (v) => (/^\d{1,3}(\.\d{1,3})?$/.test(v) && Number(v) >= 1 && Number(v) <= 120 ? Number(v) : undefined),
  },
  br: { allowed: () => 'bits per second from 10k to 100m, written as 800k, 2m or an integer', read: readBitRate },
  // Image and text layers (layer-grammar.ts).
  ...layerParameters(parseColour),
  exp: { allowed: () => 'a unix time in seconds', read: (v) => intIn(v, 1, 99_999_999_999) },
  t: {
    allowed: () => 'the name of a configured preset',
    read: (v, _l, presets) => (presets.has(v) ? v : undefined),
  },
};

/** Every key with the values it allows under `limits`, in table order (the served grammar, grammar.ts). */
export function parameterGrammar(limits: ParseLimits): { key: string; allowed: string }[] {
  return Object.entries(PARAMETERS).map(([key, spec]) => ({ key, allowed: spec.allowed(limits) }));
}

function nullIfZero(n: number | undefined): number | null | undefined {
  return n === 0 ? null : n;
}

/** Reads one comma-separated segment into `out`, recording the keys it sets. */
function readSegment(segment: string, limits: ParseLimits, presets: ReadonlyMap<string, Preset>, out: Options): string[] {
  const keys: string[] = [];
  for (const param of segment.split(',')) {
    const sep = param.indexOf('_');
    const key = sep > 0 ? param.slice(0, sep) : param;
    const spec = Object.hasOwn(PARAMETERS, key) ? PARAMETERS[key] : undefined;
    if (!spec) {
      throw invalidTransformation(key || '(empty)', `keys ${Object.keys(PARAMETERS).join(', ')} written as key_value`, param);
    }
    const raw = sep > 0 ? param.slice(sep + 1) : '';
    if (keys.includes(key)) throw invalidTransformation(key, 'each key at most once', param);
    const value = raw === '' ? undefined : spec.read(raw, limits, presets);
    if (value === undefined) {
      const allowed = key === 't' ? `one of ${[...presets.keys()].join(', ') || '(no presets configured)'}` : spec.allowed(limits);
      throw invalidTransformation(key, allowed, raw);
    }
    keys.push(key);
    if (value !== null) (out as Record<string, unknown>)[key] = value;
  }
  return keys;
}

/** Builds the canonical string: keys sorted, defaults already dropped, values normalised. */
export function canonicalise(o: TransformOptions): string {
  const parts: string[] = [];
  for (const key of Object.keys(o).sort()) {
    const value = (o as Record<string, unknown>)[key];
    if (value === undefined) continue;
    let text: string;
    if (key === 'b') text = formatColour(value as Rgba);
    else if (key === 'fl') text = (value as Flag[]).join('.');
    else if (key === 'e') text = (value as Effect[]).map((e) => (e.amount === undefined ? e.name : `${e.name}:${e.amount}`)).join('.');
    else text = formatLayerValue(key, value, formatColour) ?? String(value);
    parts.push(`${key}_${text}`);
  }
  return parts.join(',');
}

/** Keys an unsigned URL may use under `TRANSFORM_POLICY=presets` (`f` only as `f_auto`). */
const PRESET_POLICY_KEYS = new Set(['t', 'f', 'dpr', 'exp']);

const EXTENSIONS: Record<string, Format> = { webp: 'webp', avif: 'avif', jpg: 'jpeg', jpeg: 'jpeg', png: 'png', gif: 'gif' };

/**
 * Parses a transformation segment (already percent-decoded or not) and the optional file
 * extension. Preset keys are expanded first; keys written in the URL override them.
 */
export function parseTransformation(
  segment: string,
  ext: string | undefined,
  limits: ParseLimits,
  presets: ReadonlyMap<string, Preset>,
): ParsedTransformation {
  if (segment.length === 0 || segment.length > MAX_SEGMENT_LENGTH) {
    throw invalidTransformation('transformations', `1 to ${MAX_SEGMENT_LENGTH} characters`);
  }
  let decoded = segment;
  if (segment.includes('%')) {
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidTransformation('transformations', 'valid percent-encoding', segment);
    }
  }
  const own: Options = {};
  const keys = readSegment(decoded, limits, presets, own);
  const merged: Options = {};
  if (own.t) {
    const preset = presets.get(own.t);
    if (preset) readSegment(preset.transformation, limits, new Map(), merged);
  }
  // Keys written in the URL override the preset's, including back to a default.
  for (const key of keys) delete (merged as Record<string, unknown>)[key];
  Object.assign(merged, own);
  const { exp, t, ...options } = merged;

  if (ext !== undefined) {
    const format = EXTENSIONS[ext.toLowerCase()];
    if (!format) throw invalidTransformation('ext', Object.keys(EXTENSIONS).join(', '), ext);
    options.f ??= format as OutputFormat;
  }
  const ownFormat = own.f as Format | undefined;
  if ((options.f as Format | undefined) === 'auto') delete options.f;
  checkCombination(options, limits);
  return Object.freeze({
    options: deepFreeze(options),
    canonical: canonicalise(options),
    ...(exp !== undefined ? { exp } : {}),
    ...(t !== undefined ? { preset: t } : {}),
    keys: Object.freeze(keys),
    presetOnly: keys.every((k) => PRESET_POLICY_KEYS.has(k)) && (ownFormat === undefined || ownFormat === 'auto'),
  });
}

/** Cross-key rules: `c_crop` needs a size; the requested output must fit the output limits. */
function checkCombination(o: Options, limits: ParseLimits): void {
  checkLayerCombination(o);
  const dpr = o.dpr ?? 1;
  if (o.w !== undefined && Math.round(o.w * dpr) > limits.maxDimension) {
    throw invalidTransformation('w', `w × dpr at most ${limits.maxDimension}`, String(o.w));
  }
  if (o.h !== undefined && Math.round(o.h * dpr) > limits.maxDimension) {
    throw invalidTransformation('h', `h × dpr at most ${limits.maxDimension}`, String(o.h));
  }
  if (o.w !== undefined && o.h !== undefined && o.w * o.h * dpr * dpr > limits.maxOutputPixels) {
    throw invalidTransformation('w', `w × h × dpr² at most ${limits.maxOutputPixels} pixels`, `${o.w}x${o.h}`);
  }
  if (o.so !== undefined && o.eo !== undefined && o.eo <= o.so) {
    throw invalidTransformation('eo', 'an end offset after so', String(o.eo));
  }
  if (o.c === 'crop' && o.w === undefined && o.h === undefined && o.ar === undefined) {
    throw invalidTransformation('c', 'c_crop together with w, h or ar', 'crop');
  }
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

/** Gravity after the `c_thumb` default (`g_auto`) is applied. */
export function effectiveGravity(o: TransformOptions): Gravity {
  return o.g ?? (o.c === 'thumb' ? 'auto' : 'center');
}

/** Resize mode with the default filled in. */
export const effectiveCrop = (o: TransformOptions): CropMode => o.c ?? 'limit';
