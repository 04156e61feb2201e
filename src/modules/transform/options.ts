/**
 * The vocabulary of the transformation grammar (TRANSFORMS.md): the value sets of every key
 * and the immutable, canonical options object the parser produces and the pipeline reads.
 */
import type { LayerOptions } from './layer-grammar';

export const CROP_MODES = ['fill', 'lfill', 'fit', 'limit', 'mfit', 'pad', 'lpad', 'scale', 'crop', 'thumb'] as const;
export type CropMode = (typeof CROP_MODES)[number];

export const GRAVITIES = [
  'center', 'north', 'south', 'east', 'west', 'north_east', 'north_west', 'south_east', 'south_west',
  'auto', 'entropy', 'face',
] as const;
export type Gravity = (typeof GRAVITIES)[number];

/** Output formats a URL may ask for; `jpg` is an alias of `jpeg`. */
export const FORMATS = ['auto', 'webp', 'avif', 'jpeg', 'png', 'gif'] as const;
export type Format = (typeof FORMATS)[number];
/** A concrete encoder (what `auto` resolves to). */
export type OutputFormat = Exclude<Format, 'auto'>;

export const FLAGS = ['hflip', 'vflip', 'progressive', 'keep_icc'] as const;
export type Flag = (typeof FLAGS)[number];

/**
 * Effects in the order the pipeline applies them (trim before resize, colour last); the
 * adjustments (gamma … vignette, adjust.ts) run after the others, in this order.
 */
export const EFFECT_ORDER = [
  'trim', 'blur', 'sharpen', 'pixelate', 'grayscale', 'sepia', 'negate',
  'gamma', 'saturation', 'hue', 'brightness', 'contrast', 'tint', 'vignette',
] as const;
export type EffectName = (typeof EFFECT_ORDER)[number];

export interface Effect {
  readonly name: EffectName;
  /** Strength (blur, sharpen, pixelate, adjustments) or tolerance (trim); absent = the effect's default. */
  readonly amount?: number;
  /** `tint` only: the colour blended in. */
  readonly colour?: Rgba;
}

/** RGBA, each channel 0–255. */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly alpha: number;
}

/**
 * Parsed, canonical transformation options. Keys left at their default are absent, so two
 * URLs that mean the same thing produce equal objects and the same canonical string.
 */
export interface TransformOptions extends LayerOptions {
  readonly w?: number;
  readonly h?: number;
  /** Device pixel ratio, one decimal, 1 < dpr ≤ 4 (1 is the default and dropped). */
  readonly dpr?: number;
  /** Resize mode; default `limit`. */
  readonly c?: Exclude<CropMode, 'limit'>;
  /** Gravity; default `center`; `face` is stored as `auto`. */
  readonly g?: Exclude<Gravity, 'center' | 'face'>;
  readonly x?: number;
  readonly y?: number;
  /** Aspect ratio width / height, 4 decimals. */
  readonly ar?: number;
  /** Quality 1–100; absent = the per-format default (`q_auto`). */
  readonly q?: number;
  /** Output format; absent = negotiate (`auto`). */
  readonly f?: OutputFormat;
  /** Rotation in degrees, normalised to 1–359 (0 dropped); EXIF auto-orient always runs first. */
  readonly a?: number;
  readonly fl?: readonly Flag[];
  /** Background; absent = white for flatten/pad of opaque output, transparent otherwise. */
  readonly b?: Rgba;
  /** Corner radius in px, or `max` for a circle/ellipse. */
  readonly r?: number | 'max';
  readonly e?: readonly Effect[];
  /** Video: start offset in seconds (the poster's frame, or where a rendition starts). */
  readonly so?: number;
  /** Video renditions: end offset in seconds. */
  readonly eo?: number;
  /** Video renditions: `none` drops the audio. */
  readonly ac?: 'none';
  /** Video renditions: frame-rate cap. */
  readonly fps?: number;
  /** Video renditions: bit-rate cap in bits per second. */
  readonly br?: number;
  /** Opacity in percent, 0–99 (100, the default, is dropped). */
  readonly o?: number;
  /** Border (`bo_<w>px_solid_<colour>`): width in CSS px (× dpr) and colour. */
  readonly bo?: { readonly width: number; readonly colour: Rgba };
  /** Per-side padding in CSS px (× dpr): top, right, bottom, left (`pd_`). */
  readonly pd?: readonly [number, number, number, number];
  /** `b_blurred[:<1-2000>]`: padding filled with a blurred cover of the image, this strong (written as `b_`). */
  readonly bblur?: number;
  /** `d_<id>`: the public image served instead when the file is missing or not an image. */
  readonly d?: string;
  /** `w_auto[:<fallback>]`: the width comes from the Client Hints (`Sec-CH-Width`/`Width`); `true` = no fallback. */
  readonly wauto?: number | true;
  /** `dpr_auto`: the pixel ratio comes from the Client Hints (`Sec-CH-DPR`/`DPR`). */
  readonly dprauto?: true;
}

/** What the parser returns: the options plus facts the policy and the signature check need. */
export interface ParsedTransformation {
  readonly options: TransformOptions;
  /** Canonical form of `options` (sorted keys, defaults dropped); `''` when nothing is set. */
  readonly canonical: string;
  /** `exp_` of a signed URL (unix seconds). Not part of the canonical form: it does not change pixels. */
  readonly exp?: number;
  /** The preset named by `t_`, if any. */
  readonly preset?: string;
  /** Keys written in the URL itself (not those that came from the preset). */
  readonly keys: readonly string[];
  /** Only `t_`, `dpr_`, `f_auto` (and `exp_`) were written: allowed unsigned under the `presets` policy. */
  readonly presetOnly: boolean;
  /**
   * A chain (`step/step/…`, chain.ts): every step's options, in order; `options` is the last
   * step's. Absent for a single step.
   */
  readonly steps?: readonly TransformOptions[];
}

/** Limits the parser enforces (from config). */
export interface ParseLimits {
  readonly maxDimension: number;
  readonly maxOutputPixels: number;
}

/** Named transformations (config `PRESETS`): name → transformation string and eager flag. */
export interface Preset {
  readonly name: string;
  readonly transformation: string;
  readonly eager: boolean;
}
