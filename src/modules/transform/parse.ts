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

/**
 * Named colours accepted by `b_`; anything else is written as hex. A Map, not an object: a URL's
 * `b___proto__` or `b_constructor` must find no colour, not Object's own properties.
 */
const COLOUR_NAMES: ReadonlyMap<string, string> = new Map(Object.entries({
  white: 'ffffff', black: '000000', red: 'ff0000', green: '008000', blue: '0000ff', yellow: 'ffff00',
  cyan: '00ffff', magenta: 'ff00ff', gray: '808080', grey: '808080', silver: 'c0c0c0', orange: 'ffa500',
  purple: '800080', pink: 'ffc0cb', brown: 'a52a2a', transparent: '00000000',
}));

/** Parses `transparent`, a colour name, `rgb:RRGGBB[AA]`, `#RGB[A]` or `#RRGGBB[AA]`. */
export function parseColour(raw: string): Rgba | undefined {
  const lower = raw.toLowerCase();
  let hex = COLOUR_NAMES.get(lower);
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
  // The adjustments (adjust.ts), on Cloudinary's scales.
  gamma: { min: -50, max: 150 }, saturation: { min: -100, max: 100 }, hue: { min: -100, max: 100 },
  brightness: { min: -99, max: 100 }, contrast: { min: -100, max: 100 }, tint: { min: 0, max: 100 },
  vignette: { min: 0, max: 100 },
};
/** Effects whose amount may be omitted. */
const OPTIONAL_AMOUNT = new Set<EffectName>(['sharpen', 'trim']);
/**
 * Adjustments whose omitted amount means Cloudinary's default; it is written into the options
 * so that `e_brightness` and `e_brightness:80` are one canonical form. Contrast and gamma
 * (Cloudinary's default 0 changes nothing) need an amount.
 */
export const ADJUSTMENT_DEFAULTS: Partial<Record<EffectName, number>> = { saturation: 80, hue: 80, brightness: 80, tint: 60, vignette: 20 };
/** `e_tint`'s colour when none is written. */
export const DEFAULT_TINT: Rgba = { r: 255, g: 0, b: 0, alpha: 255 };

/** An integer with an optional minus sign, `min` to `max`. */
const signedIn = (raw: string, min: number, max: number): number | undefined =>
  raw.startsWith('-') ? ((n) => (n === undefined || -n < min ? undefined : -n))(intIn(raw.slice(1), 0, -min)) : intIn(raw, Math.max(0, min), max);

function readEffects(raw: string): Effect[] | undefined {
  const seen = new Set<string>();
  const out: Effect[] = [];
  for (const part of raw.split('.')) {
    const first = part.indexOf(':');
    const name = first < 0 ? part : part.slice(0, first);
    let rest = first < 0 ? undefined : part.slice(first + 1);
    // `colorize` is Cloudinary's name for the same blend; `tint:<amount>:<colour>` takes a colour (which may hold a `:`).
    const effect = oneOf(EFFECT_ORDER, name === 'colorize' ? 'tint' : name);
    if (!effect || seen.has(effect)) return undefined;
    let colour: Rgba | undefined;
    if (effect === 'tint' && rest !== undefined && rest.includes(':')) {
      colour = parseColour(rest.slice(rest.indexOf(':') + 1));
      if (!colour || colour.alpha !== 255) return undefined;
      rest = rest.slice(0, rest.indexOf(':'));
    }
    if (rest?.includes(':')) return undefined;
    seen.add(effect);
    const range = EFFECT_RANGES[effect];
    const fallback = ADJUSTMENT_DEFAULTS[effect];
    if (rest === undefined) {
      if (range && !OPTIONAL_AMOUNT.has(effect) && fallback === undefined) return undefined;
      out.push(effect === 'tint' ? { name: effect, amount: fallback, colour: DEFAULT_TINT } : fallback === undefined ? { name: effect } : { name: effect, amount: fallback });
      continue;
    }
    if (!range) return undefined;
    const amount = signedIn(rest, range.min, range.max);
    if (amount === undefined) return undefined;
    out.push(effect === 'tint' ? { name: effect, amount, colour: colour ?? DEFAULT_TINT } : { name: effect, amount });
  }
  return out.sort((a, b) => EFFECT_ORDER.indexOf(a.name) - EFFECT_ORDER.indexOf(b.name));
}

/** `bo_<1-1000>px_solid_<colour>` (Cloudinary's border; `solid` is the one style). */
function readBorder(raw: string): TransformOptions['bo'] | undefined {
  const m = /^(\d{1,4})px_solid_(.+)$/.exec(raw);
  const width = m ? intIn(m[1] as string, 1, 1000) : undefined;
  const colour = m ? parseColour(m[2] as string) : undefined;
  return width !== undefined && colour ? { width, colour } : undefined;
}

/** `pd_<all>`, `pd_<vertical>:<horizontal>`, `pd_<top>:<horizontal>:<bottom>` or `pd_<top>:<right>:<bottom>:<left>` (CSS order). */
function readPadding(raw: string, limits: ParseLimits): TransformOptions['pd'] | null | undefined {
  const parts = raw.split(':').map((v) => intIn(v, 0, limits.maxDimension));
  if (parts.length > 4 || parts.some((v) => v === undefined)) return undefined;
  const [t, r = t, b = t, l = r] = parts as number[];
  const sides = [t, r, b, l] as [number, number, number, number];
  return sides.every((v) => v === 0) ? null : sides;
}

/** A background: a colour, or `blurred[:<1-2000>]` (stored as `bblur`). */
function readBackground(raw: string): Rgba | ReturnType<typeof as> | undefined {
  const m = /^blurred(?::(\d{1,4}))?$/.exec(raw);
  if (!m) return parseColour(raw);
  const amount = m[1] === undefined ? 100 : intIn(m[1], 1, 2000);
  return amount === undefined ? undefined : as('bblur', amount);
}

/** A value stored under another option key than the URL's (`w_auto` → `wauto`). */
const AS = Symbol('as');
function as(key: keyof TransformOptions, value: unknown): { [AS]: keyof TransformOptions; value: unknown } {
  return { [AS]: key, value };
}
/** The option keys a URL key may set (a key written in the URL replaces every one of them from a preset). */
const OPTION_KEYS: Record<string, readonly string[]> = { w: ['w', 'wauto'], dpr: ['dpr', 'dprauto'], b: ['b', 'bblur'] };

/** The `/`-separated steps a chain may have (one step, or up to this many). */
export const MAX_CHAIN_STEPS = 5;

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
  w: {
    allowed: (l) => `an integer from 1 to ${l.maxDimension}, or auto[:<fallback width>] (Client Hints)`,
    read: (v, l) => {
      const auto = /^auto(?::(\d{1,5}))?$/.exec(v);
      if (!auto) return intIn(v, 1, l.maxDimension);
      const fallback = auto[1] === undefined ? true : intIn(auto[1], 1, l.maxDimension);
      return fallback === undefined ? undefined : as('wauto', fallback);
    },
  },
  h: { allowed: (l) => `an integer from 1 to ${l.maxDimension}`, read: (v, l) => intIn(v, 1, l.maxDimension) },
  dpr: {
    allowed: () => 'a number from 1 to 4 with at most one decimal, or auto (Client Hints)',
    read: (v) => {
      if (v === 'auto') return as('dprauto', true);
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
  b: {
    allowed: () => 'transparent, a colour name, rgb:RRGGBB[AA], #RGB[A] or #RRGGBB[AA], or blurred[:<1-2000>] (padding filled with the image blurred)',
    read: readBackground,
  },
  r: {
    allowed: (l) => `an integer from 0 to ${l.maxDimension}, or max`,
    read: (v, l) => (v === 'max' ? 'max' : nullIfZero(intIn(v, 0, l.maxDimension))),
  },
  e: {
    allowed: () =>
      'blur:<1-2000>, sharpen[:<1-2000>], grayscale, sepia, negate, pixelate:<2-200>, trim[:<0-100>], '
      + 'gamma:<-50-150>, saturation[:<-100-100>] (default 80), hue[:<-100-100>] (default 80), brightness[:<-99-100>] (default 80), '
      + 'contrast:<-100-100>, tint[:<0-100>[:<colour>]] (default 60, red; colorize is an alias), vignette[:<0-100>] (default 20), joined by "."',
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
  o: { allowed: () => 'an integer from 0 to 100 (percent)', read: (v) => (v === '100' ? null : intIn(v, 0, 100)) },
  bo: { allowed: () => '<1-1000>px_solid_<colour> (colour as for b)', read: readBorder },
  pd: { allowed: (l) => `<px>, or 2 to 4 of them joined by ":" in CSS order (top:right:bottom:left), each 0 to ${l.maxDimension}`, read: (v, l) => readPadding(v, l) },
  d: { allowed: () => 'the id of a public image (1 to 64 of A-Z a-z 0-9 _ -)', read: (v) => (/^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : undefined) },
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
    if (value !== null && typeof value === 'object' && AS in value) {
      const aliased = value as ReturnType<typeof as>;
      (out as Record<string, unknown>)[aliased[AS]] = aliased.value;
    } else if (value !== null) (out as Record<string, unknown>)[key] = value;
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
    let name = key;
    if (key === 'b') text = formatColour(value as Rgba);
    else if (key === 'fl') text = (value as Flag[]).join('.');
    else if (key === 'e') {
      text = (value as Effect[]).map((e) => (e.amount === undefined ? e.name : `${e.name}:${e.amount}${e.colour ? `:${formatColour(e.colour)}` : ''}`)).join('.');
    } else if (key === 'bo') text = `${(value as { width: number }).width}px_solid_${formatColour((value as { colour: Rgba }).colour)}`;
    else if (key === 'pd') text = new Set(value as number[]).size === 1 ? String((value as number[])[0]) : (value as number[]).join(':');
    else if (key === 'bblur') [name, text] = ['b', `blurred:${String(value)}`];
    else if (key === 'wauto') [name, text] = ['w', value === true ? 'auto' : `auto:${String(value)}`];
    else if (key === 'dprauto') [name, text] = ['dpr', 'auto'];
    else text = formatLayerValue(key, value, formatColour) ?? String(value);
    parts.push(`${name}_${text}`);
  }
  return parts.join(',');
}

/** Keys an unsigned URL may use under `TRANSFORM_POLICY=presets` (`f` only as `f_auto`). */
const PRESET_POLICY_KEYS = new Set(['t', 'f', 'dpr', 'exp']);

const EXTENSIONS: Record<string, Format> = { webp: 'webp', avif: 'avif', jpg: 'jpeg', jpeg: 'jpeg', png: 'png', gif: 'gif' };

/** Keys a step before the last of a chain may not hold: they describe the output, or a video. */
const LAST_STEP_ONLY = ['f', 'q', 'd', 'wauto', 'dprauto', 'so', 'eo', 'ac', 'fps', 'br'] as const;

/**
 * Parses a transformation: one segment (`w_400,h_300,c_fill`), or a chain of up to
 * MAX_CHAIN_STEPS segments joined by `/` (Cloudinary's chained transformations), each step with
 * its own options, applied in order (chain.ts). The extension sets the last step's format. The
 * canonical form of a chain is its steps' canonical forms joined by `/`, steps that change
 * nothing dropped (a chain of one step is that step). Output, Client Hint, default-image and
 * video keys belong to the last step; `fl_progressive`/`fl_keep_icc` act on the output only.
 */
export function parseTransformation(
  segment: string,
  ext: string | undefined,
  limits: ParseLimits,
  presets: ReadonlyMap<string, Preset>,
): ParsedTransformation {
  if (!segment.includes('/')) return parseStep(segment, ext, limits, presets);
  const parts = segment.split('/');
  if (parts.length > MAX_CHAIN_STEPS) throw invalidTransformation('transformations', `a chain of at most ${MAX_CHAIN_STEPS} steps joined by "/"`, `${parts.length} steps`);
  // Named for what it is (`w_100//h_5` was told "1 to 1024 characters").
  if (parts.includes('')) throw invalidTransformation('transformations', 'steps joined by one "/", none empty', segment);
  const parsed = parts.map((part, i) => parseStep(part, i === parts.length - 1 ? ext : undefined, limits, presets));
  parsed.slice(0, -1).forEach((step, i) => {
    const misplaced = LAST_STEP_ONLY.find((k) => step.options[k] !== undefined) ?? (step.exp !== undefined ? 'exp' : undefined);
    if (misplaced) {
      const key = misplaced === 'wauto' ? 'w' : misplaced === 'dprauto' ? 'dpr' : misplaced;
      throw invalidTransformation(key, `${key} only in the last step of a chain`, parts[i]);
    }
  });
  const last = parsed[parsed.length - 1] as ParsedTransformation;
  const kept = parsed.filter((p) => p.canonical !== '');
  if (kept.length <= 1 && (kept[0] ?? last) === last) return last;
  if (['so', 'eo', 'ac', 'fps', 'br'].some((k) => (last.options as Record<string, unknown>)[k] !== undefined)) {
    throw invalidTransformation('transformations', 'video keys (so, eo, ac, fps, br) only without a chain', segment);
  }
  const keys = [...new Set(parsed.flatMap((p) => p.keys))];
  return Object.freeze({
    ...last,
    canonical: kept.map((p) => p.canonical).join('/'),
    keys: Object.freeze(keys),
    presetOnly: parsed.every((p) => p.presetOnly),
    steps: Object.freeze(kept.map((p) => p.options)),
  });
}

/** Parses one step (a segment without `/`), already percent-decoded or not. Preset keys are expanded first; keys written in the URL override them. */
function parseStep(
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
    if (decoded.includes('/')) throw invalidTransformation('transformations', 'steps of a chain joined by a plain "/"', segment);
  }
  const own: Options = {};
  const keys = readSegment(decoded, limits, presets, own);
  const merged: Options = {};
  if (own.t) {
    const preset = presets.get(own.t);
    if (preset) readSegment(preset.transformation, limits, new Map(), merged);
  }
  // Keys written in the URL override the preset's, including back to a default.
  for (const key of keys) for (const k of OPTION_KEYS[key] ?? [key]) delete (merged as Record<string, unknown>)[k];
  Object.assign(merged, own);
  const { exp, t, ...options } = merged;

  if (ext !== undefined) {
    const lower = ext.toLowerCase();
    // Own keys only: `.__proto__` must not find Object.prototype (which deepFreeze below would then freeze for the whole process).
    const format = Object.hasOwn(EXTENSIONS, lower) ? EXTENSIONS[lower] : undefined;
    // The video renditions' two are named too: `.mkv` on a video was told only the image formats.
    if (!format) throw invalidTransformation('ext', `${Object.keys(EXTENSIONS).join(', ')} (a video's renditions: mp4, webm)`, ext);
    options.f ??= format as OutputFormat;
  }
  const ownFormat = own.f as Format | undefined;
  if ((options.f as Format | undefined) === 'auto') delete options.f;
  checkCombination(options, limits);
  checkIdleKeys(options, keys);
  return Object.freeze({
    options: deepFreeze(options),
    canonical: canonicalise(options),
    ...(exp !== undefined ? { exp } : {}),
    ...(t !== undefined ? { preset: t } : {}),
    keys: Object.freeze(keys),
    // An extension picks the format as f_ does: only f_auto (or neither) is the presets policy's.
    presetOnly: keys.every((k) => PRESET_POLICY_KEYS.has(k)) && (ownFormat === undefined || ownFormat === 'auto') && ext === undefined,
  });
}

/** Resize modes that place the image by `g` (the others keep the whole image). */
const GRAVITY_MODES: ReadonlySet<string> = new Set(['fill', 'lfill', 'thumb', 'pad', 'lpad', 'crop']);

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
  if (o.bblur !== undefined && !o.pd && o.c !== 'pad' && o.c !== 'lpad') {
    throw invalidTransformation('b', 'b_blurred together with pd, c_pad or c_lpad (it fills their padding)', 'blurred');
  }
  if (o.wauto !== undefined && o.c === 'crop') throw invalidTransformation('w', 'w_auto with a resize mode other than c_crop', 'auto');
  // Padding and border add to the requested box: a box already at the limit cannot take them.
  const extraX = ((o.pd ? o.pd[1] + o.pd[3] : 0) + (o.bo ? 2 * o.bo.width : 0)) * dpr;
  const extraY = ((o.pd ? o.pd[0] + o.pd[2] : 0) + (o.bo ? 2 * o.bo.width : 0)) * dpr;
  if (extraX > limits.maxDimension || extraY > limits.maxDimension) {
    throw invalidTransformation(o.pd ? 'pd' : 'bo', `padding and border (× dpr) of at most ${limits.maxDimension} px per side`, `${Math.round(extraX)}x${Math.round(extraY)}`);
  }
}

/**
 * Keys the URL itself wrote that would change nothing are refused (each would also cost a render
 * and a cache entry of its own); a preset's key that the URL's own keys leave idle is not the
 * caller's doing (`t_thumb,c_limit` keeps the preset's `g_auto` without a word).
 */
function checkIdleKeys(o: Options, written: readonly string[]): void {
  for (const k of ['x', 'y'] as const) {
    if (written.includes(k) && o[k] !== undefined && o.c !== 'crop') throw invalidTransformation(k, `${k} only with c_crop (the region's offset)`, String(o[k]));
  }
  if (written.includes('ar') && o.ar !== undefined && (o.w !== undefined || o.wauto !== undefined) && o.h !== undefined) {
    throw invalidTransformation('ar', 'ar with only one of w and h, or alone (w and h together already give the box its shape)', String(o.ar));
  }
  if (written.includes('g') && o.g !== undefined && !(o.c !== undefined && GRAVITY_MODES.has(o.c) && !(o.c === 'crop' && (o.x !== undefined || o.y !== undefined)))) {
    throw invalidTransformation('g', 'g with c_fill, c_lfill, c_thumb, c_pad, c_lpad or c_crop (without x/y): the other modes keep the whole image', o.g);
  }
  // The content-aware gravities choose what a resize cuts away; c_crop, c_pad and c_lpad cut
  // nothing by resizing, so they have nothing to choose.
  if (written.includes('g') && (o.g === 'auto' || o.g === 'entropy') && o.c !== 'fill' && o.c !== 'lfill' && o.c !== 'thumb') {
    throw invalidTransformation('g', 'g_auto, g_face and g_entropy with c_fill, c_lfill or c_thumb (c_crop, c_pad and c_lpad take a compass gravity such as g_north_west)', o.g);
  }
  if (written.includes('q') && o.q !== undefined && o.f === 'gif') {
    throw invalidTransformation('q', 'q with f_jpg, f_webp, f_avif or f_png (GIF has no quality setting)', String(o.q));
  }
  if (written.includes('fl') && o.fl?.includes('progressive') && o.f !== undefined && o.f !== 'jpeg' && o.f !== 'png') {
    throw invalidTransformation('fl', 'fl_progressive with f_jpg or f_png (the formats with a progressive mode)', 'progressive');
  }
}

/** Re-exported for the Client Hints (hints.ts): the options after substitution obey the same rules. */
export const checkOptions = (o: TransformOptions, limits: ParseLimits): void => checkCombination(o as Options, limits);

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
