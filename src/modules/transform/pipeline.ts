/**
 * The render: one sharp pipeline built from small named steps, each a function of the context
 * that returns early when its option is absent (imgproxy's shape). Order: auto-orient →
 * crop/extract → trim → resize → rotate → flip → effects → rounded corners →
 * flatten/background → encode. Metadata is stripped (sharp's default converts to sRGB and
 * drops EXIF/XMP/ICC); `fl_keep_icc` keeps the source profile. Animated GIF/WebP stay animated
 * when the output format can animate.
 */
import sharp, { type Sharp } from 'sharp';
import { planGeometry, type GeometryLimits, type GeometryPlan } from './geometry';
import type { OutputFormat, Rgba, TransformOptions } from './options';
import type { ProbedImage } from './probe';
import { ENCODERS, FAIL_ON, type EncoderSettings } from './sharp-settings';

export interface RenderLimits extends GeometryLimits {
  maxInputPixels: number;
  timeoutMs: number;
}

interface Ctx {
  img: Sharp;
  readonly o: TransformOptions;
  readonly plan: GeometryPlan;
  readonly source: ProbedImage;
  readonly format: OutputFormat;
  readonly animated: boolean;
  readonly limits: RenderLimits;
  readonly encoders: EncoderSettings;
}

type Step = (ctx: Ctx) => void | Promise<void>;

const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 255 };
const toSharpColour = (c: Rgba) => ({ r: c.r, g: c.g, b: c.b, alpha: c.alpha / 255 });
const supportsAlpha = (f: OutputFormat) => f !== 'jpeg';

const SHARP_GRAVITY: Record<string, string | number> = {
  center: 'centre', north: 'north', south: 'south', east: 'east', west: 'west',
  north_east: 'northeast', north_west: 'northwest', south_east: 'southeast', south_west: 'southwest',
  auto: sharp.strategy.attention, entropy: sharp.strategy.entropy,
};
const has = (o: TransformOptions, name: string) => o.e?.some((e) => e.name === name) ?? false;
const amountOf = (o: TransformOptions, name: string) => o.e?.find((e) => e.name === name)?.amount;

/** Re-opens the pipeline from its current pixels: needed where a step must know the exact size. */
async function materialise(ctx: Ctx): Promise<{ width: number; height: number }> {
  const { data, info } = await ctx.img.raw().toBuffer({ resolveWithObject: true });
  ctx.img = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).timeout({ seconds: timeoutS(ctx) });
  return { width: info.width, height: info.height };
}
const timeoutS = (ctx: Ctx) => Math.max(1, Math.ceil(ctx.limits.timeoutMs / 1000));

const autoOrient: Step = (ctx) => {
  ctx.img = ctx.img.autoOrient();
};

const extract: Step = (ctx) => {
  if (ctx.plan.extract) ctx.img = ctx.img.extract(ctx.plan.extract);
};

const trim: Step = (ctx) => {
  if (has(ctx.o, 'trim')) ctx.img = ctx.img.trim({ threshold: amountOf(ctx.o, 'trim') ?? 10 });
};

const resize: Step = (ctx) => {
  const { plan, o } = ctx;
  const { width, height } = plan.box;
  if (plan.mode === 'crop' || (width === undefined && height === undefined)) return;
  const position = SHARP_GRAVITY[plan.gravity] ?? 'centre';
  const background = toSharpColour(o.b ?? (supportsAlpha(ctx.format) ? TRANSPARENT : WHITE));
  switch (plan.mode) {
    case 'fill': case 'thumb': case 'lfill':
      ctx.img = ctx.img.resize({ width, height, fit: 'cover', position, withoutEnlargement: plan.mode === 'lfill' });
      return;
    case 'fit': case 'limit':
      ctx.img = ctx.img.resize({ width, height, fit: 'inside', withoutEnlargement: plan.mode === 'limit' });
      return;
    case 'mfit':
      ctx.img = ctx.img.resize({ width, height, fit: 'outside' });
      return;
    case 'scale':
      ctx.img = ctx.img.resize({ width, height, fit: width && height ? 'fill' : 'inside' });
      return;
    case 'pad':
      ctx.img = ctx.img.resize({ width, height, fit: 'contain', position: typeof position === 'string' ? position : 'centre', background });
      return;
    case 'lpad': {
      // Never enlarge, but still pad to the requested box: resize inside, then extend around it.
      ctx.img = ctx.img.resize({ width, height, fit: 'inside', withoutEnlargement: true });
      const inner = innerSize(ctx.source, plan);
      const padX = Math.max(0, plan.output.width - inner.width);
      const padY = Math.max(0, plan.output.height - inner.height);
      if (padX || padY) {
        ctx.img = ctx.img.extend({
          left: Math.floor(padX / 2), right: Math.ceil(padX / 2), top: Math.floor(padY / 2), bottom: Math.ceil(padY / 2), background,
        });
      }
    }
  }
};

/** Size after `inside` + `withoutEnlargement` into the plan's box (for `lpad`'s padding). */
function innerSize(source: ProbedImage, plan: GeometryPlan) {
  const sx = (plan.box.width ?? Infinity) / source.width;
  const sy = (plan.box.height ?? Infinity) / source.height;
  const scale = Math.min(1, sx, sy);
  return { width: Math.max(1, Math.round(source.width * scale)), height: Math.max(1, Math.round(source.height * scale)) };
}

const rotate: Step = (ctx) => {
  if (ctx.o.a) ctx.img = ctx.img.rotate(ctx.o.a, { background: toSharpColour(ctx.o.b ?? (supportsAlpha(ctx.format) ? TRANSPARENT : WHITE)) });
};

const flip: Step = (ctx) => {
  if (ctx.o.fl?.includes('vflip')) ctx.img = ctx.img.flip();
  if (ctx.o.fl?.includes('hflip')) ctx.img = ctx.img.flop();
};

const SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]] as [[number, number, number], [number, number, number], [number, number, number]];

const effects: Step = async (ctx) => {
  const { o } = ctx;
  if (!o.e?.length) return;
  // Cloudinary's scales (blur/sharpen 1–2000, default 100) mapped onto Gaussian sigmas.
  const blur = amountOf(o, 'blur');
  if (blur !== undefined) ctx.img = ctx.img.blur(Math.min(1000, Math.max(0.3, blur / 20)));
  if (has(o, 'sharpen')) ctx.img = ctx.img.sharpen({ sigma: 0.5 + (amountOf(o, 'sharpen') ?? 100) / 200 });
  const block = amountOf(o, 'pixelate');
  if (block !== undefined && !ctx.animated) {
    const size = await materialise(ctx);
    const small = { width: Math.max(1, Math.round(size.width / block)), height: Math.max(1, Math.round(size.height / block)) };
    const reduced = await ctx.img.resize({ ...small, fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    ctx.img = sharp(reduced.data, { raw: { width: reduced.info.width, height: reduced.info.height, channels: reduced.info.channels } })
      .resize({ ...size, fit: 'fill', kernel: 'nearest' });
  }
  if (has(o, 'grayscale')) ctx.img = ctx.img.grayscale();
  if (has(o, 'sepia')) ctx.img = ctx.img.recomb(SEPIA);
  if (has(o, 'negate')) ctx.img = ctx.img.negate({ alpha: false });
};

const roundCorners: Step = async (ctx) => {
  const r = ctx.o.r;
  if (r === undefined || ctx.animated) return;
  const { width, height } = await materialise(ctx);
  const rx = r === 'max' ? width / 2 : Math.min(r, width / 2);
  const ry = r === 'max' ? height / 2 : Math.min(r, height / 2);
  const mask = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" rx="${rx}" ry="${ry}"/></svg>`);
  ctx.img = ctx.img.ensureAlpha().composite([{ input: mask, blend: 'dest-in' }]);
};

const background: Step = (ctx) => {
  const b = ctx.o.b;
  // JPEG cannot carry alpha: flatten onto the background (white unless b_ says otherwise).
  if (!supportsAlpha(ctx.format)) ctx.img = ctx.img.flatten({ background: toSharpColour(b && b.alpha > 0 ? b : WHITE) });
  else if (b && b.alpha === 255 && ctx.plan.mode !== 'pad' && ctx.plan.mode !== 'lpad') ctx.img = ctx.img.flatten({ background: toSharpColour(b) });
};

/** Per-format encoder settings (sharp-settings.ts `ENCODERS`); `q_` replaces the default quality. */
const encode: Step = (ctx) => {
  const q = ctx.o.q;
  const { jpeg, webp, avif } = ctx.encoders;
  const progressive = ctx.o.fl?.includes('progressive') ?? false;
  if (ctx.o.fl?.includes('keep_icc')) ctx.img = ctx.img.keepIccProfile();
  switch (ctx.format) {
    case 'webp': ctx.img = ctx.img.webp({ ...webp, quality: q ?? webp.quality }); return;
    case 'avif': ctx.img = ctx.img.avif({ ...avif, quality: q ?? avif.quality }); return;
    case 'jpeg': ctx.img = ctx.img.jpeg({ quality: q ?? jpeg.quality, progressive, mozjpeg: false }); return;
    case 'png': ctx.img = ctx.img.png({ compressionLevel: 6, progressive, ...(q !== undefined ? { quality: q, palette: q < 100 } : {}) }); return;
    case 'gif': ctx.img = ctx.img.gif({ effort: 7 }); return;
  }
};

/** The steps, in order. Exported for the golden tests' names. */
export const STEPS: readonly [string, Step][] = [
  ['auto-orient', autoOrient], ['extract', extract], ['trim', trim], ['resize', resize], ['rotate', rotate],
  ['flip', flip], ['effects', effects], ['round-corners', roundCorners], ['background', background], ['encode', encode],
];

export interface RenderResult {
  body: Uint8Array;
  format: OutputFormat;
  width: number;
  height: number;
}

/** Renders `input` (already probed) with `o` into `format`; `encoders` differ from the defaults only in bench/formats.ts. */
export async function renderImage(
  input: Buffer | string, source: ProbedImage, o: TransformOptions, format: OutputFormat, limits: RenderLimits,
  encoders: EncoderSettings = ENCODERS,
): Promise<RenderResult> {
  const plan = planGeometry({ width: source.width, height: source.height }, o, limits);
  const animated = source.animated && (format === 'webp' || format === 'gif');
  const img = sharp(input, { failOn: FAIL_ON, limitInputPixels: limits.maxInputPixels, animated }).timeout({ seconds: Math.max(1, Math.ceil(limits.timeoutMs / 1000)) });
  const ctx: Ctx = { img, o, plan, source, format, animated, limits, encoders };
  for (const [, step] of STEPS) await step(ctx);
  const { data, info } = await ctx.img.toBuffer({ resolveWithObject: true });
  return {
    body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    format,
    width: info.width,
    height: animated ? (info.pageHeight ?? info.height) : info.height,
  };
}
