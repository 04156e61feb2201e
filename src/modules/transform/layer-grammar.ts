/**
 * The layer keys of the grammar (#24): an image layer (`l_`) from a file of the same account
 * or a named watermark of its settings, and a text layer (`txt_`) drawn with the bundled font.
 * The rows here join the parser's table (parse.ts `PARAMETERS`); the pipeline step is
 * overlay.ts, the source resolution (owner check, cache-key identity) layer-sources.ts.
 *
 * Image layer: `l_<file id>` or `l_wm:<name>`; `lg_` gravity (or `tile`), `lx_`/`ly_` offset
 * from that edge (spacing between tiles for `lg_tile`), `lw_` width as a fraction of the base
 * width (`fl_relative`-style), `lo_` opacity in percent.
 * Text layer: `txt_<text>`; `tg_`, `tx_`, `ty_` like `lg_`/`lx_`/`ly_`, `ts_` size in px, `tc_`
 * colour (an alpha in the colour gives the opacity), `tb_` background box colour.
 */
import { invalidTransformation } from '../../errors';
import type { Rgba } from './options';
import { fontCovers } from './font';

export const LAYER_GRAVITIES = ['north', 'south', 'east', 'west', 'north_east', 'north_west', 'south_east', 'south_west', 'center'] as const;
export type LayerGravity = (typeof LAYER_GRAVITIES)[number];

/** The layer part of `TransformOptions` (absent = default; defaults are dropped like every key). */
export interface LayerOptions {
  /** Image layer: a file id of the base's owner, or `wm:<name>` (a named watermark in the account settings). */
  readonly l?: string;
  /** Layer gravity; default `center`; `tile` repeats the layer over the whole image. */
  readonly lg?: Exclude<LayerGravity, 'center'> | 'tile';
  readonly lx?: number;
  readonly ly?: number;
  /** Layer width as a fraction of the base width, 0.01–1 (two decimals); absent = its own size (shrunk to fit). */
  readonly lw?: number;
  /** Layer opacity in percent, 1–99 (100 is the default). */
  readonly lo?: number;
  /** Text layer: the text itself (already decoded, checked). */
  readonly txt?: string;
  readonly tg?: Exclude<LayerGravity, 'center'>;
  readonly tx?: number;
  readonly ty?: number;
  /** Font size in CSS px (× dpr); default 32. */
  readonly ts?: number;
  /** Text colour; default black. */
  readonly tc?: Rgba;
  /** Background box behind the text; absent = none. */
  readonly tb?: Rgba;
}

export const MAX_TEXT_LENGTH = 100;
export const DEFAULT_TEXT_SIZE = 32;
export const MAX_TEXT_SIZE = 256;
const MAX_LAYER_OFFSET = 8192;

const ID = /^[A-Za-z0-9]{6,64}$/;
export const WATERMARK_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

const offset = (v: string) => {
  if (!/^-?\d{1,4}$/.test(v)) return undefined;
  const n = Number(v);
  return Math.abs(n) > MAX_LAYER_OFFSET ? undefined : n === 0 ? null : n;
};
const gravity = (v: string, tile: boolean) =>
  v === 'center' ? null : (LAYER_GRAVITIES as readonly string[]).includes(v) || (tile && v === 'tile') ? v : undefined;

/**
 * The text of `txt_`: the segment was percent-decoded once already, so a comma, slash or
 * percent sign inside the text is written encoded twice (`%252C`), as in Cloudinary. Control
 * characters (newlines included: the layer is one line), unpaired surrogates and characters
 * the bundled font does not have are refused, so no system font is ever looked up.
 */
function readText(raw: string): string | undefined {
  let text = raw;
  if (raw.includes('%')) {
    try {
      text = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
  }
  const chars = [...text];
  if (chars.length < 1 || chars.length > MAX_TEXT_LENGTH) return undefined;
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\u2028\u2029]/u.test(text)) return undefined;
  // Nothing to draw (Pango refuses an empty layout): spaces alone are not a text.
  if (text.trim() === '') return undefined;
  return chars.every((c) => c === ' ' || fontCovers(c.codePointAt(0) as number)) ? text : undefined;
}

/**
 * Rows for parse.ts's table: `allowed` for the error message and the served grammar, `read` as
 * there (undefined = malformed, null = the default). `colour` is parse.ts's colour reader.
 */
export const layerParameters = (colour: (raw: string) => Rgba | undefined): Record<string, { allowed: () => string; read: (raw: string) => unknown }> => ({
  l: {
    allowed: () => 'the id of another image of the same account, or wm:<name> (a watermark named in the account settings)',
    read: (v) => (ID.test(v) || (v.startsWith('wm:') && WATERMARK_NAME.test(v.slice(3))) ? v : undefined),
  },
  lg: { allowed: () => `${LAYER_GRAVITIES.join(', ')} or tile`, read: (v) => gravity(v, true) },
  lx: { allowed: () => `an integer from -${MAX_LAYER_OFFSET} to ${MAX_LAYER_OFFSET}`, read: offset },
  ly: { allowed: () => `an integer from -${MAX_LAYER_OFFSET} to ${MAX_LAYER_OFFSET}`, read: offset },
  lw: {
    allowed: () => 'a fraction of the base width from 0.01 to 1, at most two decimals',
    read: (v) => (/^(0(\.\d{1,2})?|1(\.0{1,2})?)$/.test(v) && Number(v) >= 0.01 ? Number(v) : undefined),
  },
  lo: {
    allowed: () => 'an opacity in percent from 1 to 100',
    read: (v) => (/^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100 ? (Number(v) === 100 ? null : Number(v)) : undefined),
  },
  txt: {
    allowed: () => `1 to ${MAX_TEXT_LENGTH} characters of the bundled font (DejaVu Sans), not only spaces, no control characters; `
      + 'write , / and % encoded twice (%252C, %252F, %2525)',
    read: readText,
  },
  tg: { allowed: () => LAYER_GRAVITIES.join(', '), read: (v) => gravity(v, false) },
  tx: { allowed: () => `an integer from -${MAX_LAYER_OFFSET} to ${MAX_LAYER_OFFSET}`, read: offset },
  ty: { allowed: () => `an integer from -${MAX_LAYER_OFFSET} to ${MAX_LAYER_OFFSET}`, read: offset },
  ts: {
    allowed: () => `a font size in px from 6 to ${MAX_TEXT_SIZE}`,
    read: (v) => (/^\d{1,3}$/.test(v) && Number(v) >= 6 && Number(v) <= MAX_TEXT_SIZE ? (Number(v) === DEFAULT_TEXT_SIZE ? null : Number(v)) : undefined),
  },
  tc: { allowed: () => 'a colour (name, rgb:RRGGBB[AA], #RGB[A], #RRGGBB[AA])', read: colour },
  tb: { allowed: () => 'a colour (name, rgb:RRGGBB[AA], #RGB[A], #RRGGBB[AA])', read: colour },
});

/** What each layer key does (grammar.ts `MEANINGS`). */
export const LAYER_MEANINGS: Readonly<Record<string, string>> = {
  l: 'image layer (watermark): another image of the same account (a public one on an unsigned URL; a signed URL may draw a private one), or `wm:<name>` from the account settings (its own placement, overridden by the keys written here); never another account\'s file',
  lg: 'image layer gravity (default `center`); `tile` repeats the layer over the whole image',
  lx: 'image layer: horizontal offset in CSS px from the gravity edge (towards the centre; right for `center`); the gap between tiles for `lg_tile`',
  ly: 'image layer: vertical offset in CSS px from the gravity edge; the gap between tiles for `lg_tile`',
  lw: 'image layer width as a fraction of the base width (`fl_relative`); default its own size, shrunk to fit',
  lo: 'image layer opacity in percent (default 100)',
  txt: 'text layer, one line, drawn with the bundled DejaVu Sans font (no system fonts)',
  tg: 'text layer gravity (default `center`)',
  tx: 'text layer: horizontal offset in CSS px from the gravity edge',
  ty: 'text layer: vertical offset in CSS px from the gravity edge',
  ts: `text size in CSS px (default ${DEFAULT_TEXT_SIZE})`,
  tc: 'text colour (default black; an alpha gives its opacity)',
  tb: 'background box behind the text (padding a quarter of the size); default none',
};

/** Canonical text of a layer value (parse.ts `canonicalise`), or undefined for a key that is not a layer key. */
export function formatLayerValue(key: string, value: unknown, colour: (c: Rgba) => string): string | undefined {
  if (key === 'txt') return encodeURIComponent(encodeURIComponent(value as string));
  if (key === 'tc' || key === 'tb') return colour(value as Rgba);
  return undefined;
}

/** Cross-key rules: placement keys only next to the layer they place. */
export function checkLayerCombination(o: LayerOptions): void {
  if (o.l === undefined) {
    for (const k of ['lg', 'lx', 'ly', 'lw', 'lo'] as const) {
      if (o[k] !== undefined) throw invalidTransformation(k, 'only together with l_ (an image layer)', String(o[k]));
    }
  }
  if (o.txt === undefined) {
    for (const k of ['tg', 'tx', 'ty', 'ts', 'tc', 'tb'] as const) {
      if (o[k] !== undefined) throw invalidTransformation(k, 'only together with txt_ (a text layer)', typeof o[k] === 'object' ? 'colour' : String(o[k]));
    }
  }
  if (o.lg === 'tile' && ((o.lx ?? 0) < 0 || (o.ly ?? 0) < 0)) {
    throw invalidTransformation(o.lx !== undefined && o.lx < 0 ? 'lx' : 'ly', 'a gap of 0 or more px between tiles with lg_tile', String(o.lx ?? o.ly));
  }
}
