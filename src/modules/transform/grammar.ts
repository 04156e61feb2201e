/**
 * The transformation grammar as Markdown, for the served reference (`/openapi.json`'s
 * `info.description`, shown at `/docs`). The allowed values come from the parser's own table
 * (`parameterGrammar`) under this server's limits, so the reference cannot disagree with what
 * the parser accepts; only the one-line meanings are written here. docs/TRANSFORMS.md has the
 * same table in prose (grammar.test.ts keeps both in step with the parser's keys).
 */
import type { ParseLimits, Preset } from './options';
import { parameterGrammar } from './parse';
import { LAYER_MEANINGS } from './layer-grammar';

/** What each key does; one entry per parser key (grammar.test.ts checks both ways). */
export const MEANINGS: Readonly<Record<string, string>> = {
  w: 'target width in CSS px (the output is w × dpr); `auto` takes it from `Sec-CH-Width`/`Width` (device px ÷ dpr, rounded up to 50 px; no hint → the fallback, else none)',
  h: 'target height in CSS px (the output is h × dpr)',
  dpr: 'device pixel ratio (default 1); `auto` takes it from `Sec-CH-DPR`/`DPR`, rounded up to a multiple of 0.5 (no hint → 1)',
  c: 'resize mode (default `limit`): `fill` crops to the exact size, `lfill` is fill that never enlarges, `fit` fits inside, '
    + '`limit` is fit that never enlarges, `mfit` covers the box, `pad` fits and pads to the exact size with `b`, `lpad` is pad '
    + 'that never enlarges, `scale` stretches, `crop` extracts the `w`×`h` region at `x`,`y` of the original (placed by `g` without `x`/`y`; clipped to the image where it runs past an edge, as Cloudinary and imgproxy do, so the output may be smaller), `thumb` is fill with `g_auto`',
  g: 'gravity for fill, crop and pad (default `center`; `auto` is libvips attention, `face` an alias of `auto`, both and `entropy` with `c_fill`, `c_lfill` and `c_thumb` only, since `c_crop`, `c_pad` and `c_lpad` cut nothing by resizing; on an animation `auto`/`entropy` pick the crop on the first frame, and every frame is cut there)',
  x: 'left offset of the `c_crop` region (inside the image, else 400)',
  y: 'top offset of the `c_crop` region (inside the image, else 400)',
  ar: 'aspect ratio (width / height) of the box: with only `w` or `h` it sets the other side; alone, the largest box of that ratio inside the source; with both `w` and `h`, a 400 (they already shape the box). It shapes the box, not the image: with the default `c_limit` the image fits inside the box and keeps its own shape; add `c_fill` (or `c_crop`, `c_pad`) to get that ratio',
  q: 'quality (`auto`, the default, is each format\'s own default); not for GIF: with `f_gif` a 400, with `f_auto` unused when it picks GIF',
  f: 'output format; `auto` (the default) negotiates from `Accept`: AVIF (with `AUTO_AVIF`, not for animations), else WebP, '
    + 'else GIF for animations, PNG for transparency, `r` or `o`, else JPEG (a chain makes a still image); such answers carry `Vary: Accept`',
  a: 'rotation in degrees after the EXIF orientation is applied (always); still images only',
  fl: 'flags: `hflip`, `vflip`, `progressive` (JPEG/PNG: with another `f_` a 400, with `f_auto` used when it picks one), `keep_icc` (keep the source ICC profile)',
  b: 'background for pad, rotation and flattening (JPEG output, or an opaque `b` elsewhere); default white, or transparent where the format allows',
  r: 'rounded corners in px, `max` for a circle or ellipse; still images only',
  e: 'effects, applied trim first and colour last; the adjustments last, in the order gamma, saturation, hue, brightness, contrast, tint, vignette; `pixelate`, `trim` and the adjustments on still images only',
  so: 'video: the poster frame\'s time (default min(1 s, 10 % of the duration)), or where a rendition starts',
  eo: 'video renditions (`.mp4`, `.webm`): where the rendition ends',
  ac: 'video renditions: `ac_none` drops the audio',
  fps: 'video renditions: frame-rate cap (never raised)',
  br: 'video renditions: bit-rate cap (bits per second)',
  o: 'opacity in percent (default 100); JPEG output is flattened onto `b` (white)',
  bo: 'border of that width (CSS px, × dpr) and colour around the image, after `r` (Cloudinary\'s `bo_5px_solid_black`)',
  pd: 'padding added around the resized image (CSS px, × dpr) in `b`\'s colour, or blurred with `b_blurred`',
  d: 'default image: an unsigned URL whose file is missing, not public or not an image answers with this public image instead of 404 '
    + '(it must be a public raster image of a non-banned owner, the same owner when the requested file is a public non-image; cached 300 s)',
  exp: 'expiry of a signed URL (410 after it); signed URLs only (400 on an unsigned one: an expiry nobody verifies is refused, not ignored)',
  t: 'a named preset; keys written next to it override the preset\'s',
  ...LAYER_MEANINGS,
};

/** Markdown: the URL forms, one table row per key, the presets, and the error rule. */
export function grammarMarkdown(limits: ParseLimits, presets: ReadonlyMap<string, Preset>): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = parameterGrammar(limits).map(({ key, allowed }) => `| \`${key}\` | ${cell(allowed)} | ${cell(MEANINGS[key] ?? '')} |`);
  const presetRows = [...presets.values()].map((p) => `| \`t_${p.name}\` | \`${p.transformation}\` | ${p.eager ? 'yes' : 'no'} |`);
  return [
    '## Transformations',
    '',
    '`/t/<transformations>/<id>[.<ext>]` and `/authenticated/s--<signature>/<transformations>/<id>[.<ext>]`: `<transformations>` is one '
      + 'path segment of comma-separated `key_value` parameters (`w_400,h_300,c_fill`), in any order, each key at most once. An `<ext>` '
      + '(webp, avif, jpg, jpeg, png, gif) sets the output format when no `f_` is given. Anything unknown, malformed or out of range is '
      + '400 `INVALID_TRANSFORMATION` naming the parameter and what it allows. Chains: up to 5 such segments joined by `/` '
      + '(`/t/c_fill,w_400,h_400/e_brightness:20/<id>`) are applied in order, each its own step (f, q, d and the `auto` keys in the last); '
      + 'the canonical form, cache key and signature cover the whole chain. Answers to `w_auto`/`dpr_auto` carry `Vary` with the hint headers '
      + 'and `Accept-CH`. The output limits '
      + `(${limits.maxDimension} px per side, ${limits.maxOutputPixels} pixels) hold after every step — the cover a \`g_auto\`/\`g_entropy\`/\`c_thumb\` fill scores before it crops, the resize with its padding, `
      + 'then the bounding box of a rotation — and are checked before decoding: 400 naming the step and the size it would give. '
      + 'A render not done within `TRANSFORM_TIMEOUT_MS` of its request is 503 `OVERLOADED`, and its work is stopped.',
    '',
    '| key | allowed | meaning |',
    '|---|---|---|',
    ...rows,
    '',
    'Presets on this server (`PRESETS`; eager ones are rendered by the queue after upload, once the server has had no upload for 250 ms, or at most `QUEUE_DEFER_MS` later):',
    '',
    '| preset | transformation | eager |',
    '|---|---|---|',
    ...presetRows,
  ].join('\n');
}
