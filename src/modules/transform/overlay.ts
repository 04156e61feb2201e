/**
 * The layer step of the pipeline (#24): image layers (a file of the same account, a named or a
 * forced watermark) and the text layer, composited onto the base after the effects and before
 * rounded corners, so an effect of the URL never recolours the watermark and corners clip it.
 *
 * Memory: the base is materialised once (its exact size places the layers; it is the render's
 * one checked raw frame, ≤ MAX_OUTPUT_PIXELS). Each image layer is decoded from its own probed
 * source (≤ MAX_INPUT_PIXELS, shrink-on-load) straight to at most the base's size, so a huge
 * layer costs no more than the base. Tiling uses libvips' lazy replicate, so a 1-px tile on an
 * 8192-px base costs one base-sized composite, not millions of layers. Text is bounded before
 * Pango draws it (font.ts metrics) and shrunk to fit the base when it is larger.
 */
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { invalidTransformation } from '../../errors';
import { FONT_FAMILY, FONT_FILE, fontMetrics } from './font';
import { DEFAULT_TEXT_SIZE, type LayerGravity } from './layer-grammar';
import type { Rgba, TransformOptions } from './options';
import { secondsLeft } from './deadline';
import { materialise, type Ctx } from './render-context';
import { FAIL_ON } from './sharp-settings';

export interface Size {
  width: number;
  height: number;
}

/** An image layer ready to draw: its probed source and where and how to place it. */
export interface ImageLayer {
  readonly input: Buffer;
  readonly gravity: LayerGravity | 'tile';
  /** Offsets (or gaps between tiles) in CSS px; multiplied by dpr here. */
  readonly x: number;
  readonly y: number;
  /** Width as a fraction of the base width; absent = the layer's own size. */
  readonly w?: number;
  /** Percent, 1–100. */
  readonly opacity: number;
}

export interface LayerLimits {
  maxInputPixels: number;
  maxOutputPixels: number;
}

/** Whether a render has anything for this step. */
export const hasLayers = (o: TransformOptions, images: readonly ImageLayer[]) => images.length > 0 || o.txt !== undefined;

/** Top-left corner of a `w`×`h` layer on a `W`×`H` base, offsets measured from the gravity edge, kept inside the base. */
export function placeLayer(g: LayerGravity, base: Size, layer: Size, x: number, y: number): { left: number; top: number } {
  const west = g === 'west' || g === 'north_west' || g === 'south_west';
  const east = g === 'east' || g === 'north_east' || g === 'south_east';
  const north = g === 'north' || g === 'north_west' || g === 'north_east';
  const south = g === 'south' || g === 'south_west' || g === 'south_east';
  const left = west ? x : east ? base.width - layer.width - x : Math.round((base.width - layer.width) / 2) + x;
  const top = north ? y : south ? base.height - layer.height - y : Math.round((base.height - layer.height) / 2) + y;
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, v));
  return { left: clamp(left, base.width - layer.width), top: clamp(top, base.height - layer.height) };
}

/** Decodes one image layer to raw RGBA at its drawn size (≤ the base), with its opacity applied. */
async function imageLayer(layer: ImageLayer, base: Size, dpr: number, limits: LayerLimits, timeout: number): Promise<OverlayOptions> {
  const width = layer.w !== undefined ? Math.max(1, Math.round(layer.w * base.width)) : undefined;
  const img = sharp(layer.input, { failOn: FAIL_ON, limitInputPixels: limits.maxInputPixels, animated: false })
    .timeout({ seconds: timeout })
    .autoOrient()
    .resize(width !== undefined
      ? { width, height: base.height, fit: 'inside' }
      : { width: base.width, height: base.height, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha();
  let { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels as 4 };
  // On the decoded RGBA: in the same pipeline libvips ran `linear` before `ensureAlpha`, and a
  // layer without alpha (a JPEG logo) was a 500 ("band expansion using linear is unsupported").
  if (layer.opacity < 100) ({ data, info } = await sharp(data, { raw }).linear([1, 1, 1, layer.opacity / 100], [0, 0, 0, 0]).raw().toBuffer({ resolveWithObject: true }));
  if (layer.gravity === 'tile') {
    // The gap goes right of and below each tile: one tile = layer + gap, repeated by libvips.
    const gapX = Math.max(0, Math.round(layer.x * dpr));
    const gapY = Math.max(0, Math.round(layer.y * dpr));
    if (gapX === 0 && gapY === 0) return { input: data, raw, tile: true, gravity: 'northwest' };
    const tile = await sharp(data, { raw })
      .extend({ right: Math.min(gapX, base.width), bottom: Math.min(gapY, base.height), background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { input: tile.data, raw: { width: tile.info.width, height: tile.info.height, channels: 4 }, tile: true, gravity: 'northwest' };
  }
  const at = placeLayer(layer.gravity, base, info, Math.round(layer.x * dpr), Math.round(layer.y * dpr));
  return { input: data, raw, ...at };
}

const hex = (c: Rgba) => `#${[c.r, c.g, c.b].map((n) => n.toString(16).padStart(2, '0')).join('')}`;
/** The five characters Pango markup (XML) gives a meaning; the text was already refused control characters. */
export const escapeMarkup = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);

/**
 * The text raster's size before it is drawn, from the font's widest advance and line height:
 * an upper bound (every glyph as wide as the widest), wrapped at `wrapWidth` (a glyph wider than
 * that gets a line of its own). Word wrapping can leave a line half empty (a word that does not
 * fit starts the next one), so at least half the glyphs that fit are counted per line.
 */
export function textBound(text: string, px: number, wrapWidth: number): { width: number; height: number; pixels: number } {
  const m = fontMetrics();
  const glyph = Math.ceil(m.maxAdvance * px);
  const chars = [...text].length;
  const width = Math.max(Math.min(chars * glyph, wrapWidth), glyph);
  const perLine = Math.max(1, Math.floor(Math.floor(width / glyph) / 2));
  const lines = chars * glyph <= wrapWidth ? 1 : Math.ceil(chars / perLine);
  const height = lines * (Math.ceil(m.lineHeight * px) + 2);
  return { width, height, pixels: width * height };
}

/** Draws the `txt_` layer with the bundled font (and its box), at most the base's size. */
async function textLayer(o: TransformOptions, base: Size, dpr: number, limits: LayerLimits, timeout: number): Promise<OverlayOptions> {
  const text = o.txt as string;
  const px = Math.max(1, Math.round((o.ts ?? DEFAULT_TEXT_SIZE) * dpr));
  const pad = o.tb ? Math.round(px / 4) : 0;
  const wrapWidth = Math.max(px, base.width - 2 * pad);
  const bound = textBound(text, px, wrapWidth);
  if (bound.pixels > limits.maxOutputPixels) {
    throw invalidTransformation('txt', `text whose drawn size (length × ts × dpr) stays within ${limits.maxOutputPixels} pixels`, `${bound.width}x${bound.height}`);
  }
  const colour = o.tc ?? { r: 0, g: 0, b: 0, alpha: 255 };
  const alpha = colour.alpha === 255 ? '' : ` fgalpha="${Math.max(1, Math.round((colour.alpha / 255) * 65535))}"`;
  const markup = `<span foreground="${hex(colour)}"${alpha}>${escapeMarkup(text)}</span>`;
  let drawn = await sharp({
    text: { text: markup, font: `${FONT_FAMILY} ${px}`, fontfile: FONT_FILE, dpi: 72, rgba: true, width: wrapWidth, wrap: 'word-char' },
  }).timeout({ seconds: timeout }).raw().toBuffer({ resolveWithObject: true });
  if (o.tb) {
    const box = { width: drawn.info.width + 2 * pad, height: drawn.info.height + 2 * pad };
    const b = o.tb;
    drawn = await sharp({ create: { ...box, channels: 4, background: { r: b.r, g: b.g, b: b.b, alpha: b.alpha / 255 } } })
      .composite([{ input: drawn.data, raw: { width: drawn.info.width, height: drawn.info.height, channels: 4 }, left: pad, top: pad }])
      .raw()
      .toBuffer({ resolveWithObject: true });
  }
  let { data, info } = drawn;
  if (info.width > base.width || info.height > base.height) {
    ({ data, info } = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } })
      .resize({ width: base.width, height: base.height, fit: 'inside' })
      .raw()
      .toBuffer({ resolveWithObject: true }));
  }
  const at = placeLayer(o.tg ?? 'center', base, info, Math.round((o.tx ?? 0) * dpr), Math.round((o.ty ?? 0) * dpr));
  return { input: data, raw: { width: info.width, height: info.height, channels: 4 }, ...at };
}

/**
 * Composites the layers onto `img` (whose exact size is `size`): the URL's image layer, then a
 * forced watermark (both in `images`, in that order), then the text. Returns the new pipeline.
 */
export async function drawLayers(
  img: Sharp, size: Size, o: TransformOptions, images: readonly ImageLayer[], limits: LayerLimits, timeout: () => number,
): Promise<Sharp> {
  const dpr = o.dpr ?? 1;
  const overlays: OverlayOptions[] = [];
  for (const layer of images) overlays.push(await imageLayer(layer, size, dpr, limits, timeout()));
  if (o.txt !== undefined) overlays.push(await textLayer(o, size, dpr, limits, timeout()));
  return img.composite(overlays);
}

/**
 * The pipeline step (pipeline.ts `STEPS`, after the colour steps, before rounded corners). It
 * starts from the exact frame so far (`materialise`: the layers need its size, and sharp would
 * otherwise run the URL's colour operations after the composite, recolouring the layers), and
 * ends raw again when a later step composites too (sharp keeps one composite per pipeline).
 */
export async function layers(ctx: Ctx): Promise<void> {
  const images = ctx.layers ?? [];
  // `l_` is resolved to a file of the base's account by the service; a render without one (a
  // remote source, #24) has no account to take it from.
  if (ctx.o.l !== undefined && images.length === 0) throw invalidTransformation('l', 'an image layer on a file stored in an account (not a remote source), in the last step of a chain', ctx.o.l);
  if (!hasLayers(ctx.o, images)) return;
  if (ctx.animated) throw invalidTransformation(images.length ? 'l' : 'txt', 'a layer on a still image (an animation cannot take one; ask for f_png or f_jpg for its first frame)', 'animated');
  const size = await materialise(ctx);
  ctx.img = await drawLayers(ctx.img, size, ctx.o, images, ctx.limits, () => secondsLeft(ctx.deadline));
  await materialise(ctx);
}
