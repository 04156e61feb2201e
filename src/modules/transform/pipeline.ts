/**
 * The render: a sharp pipeline built from small named steps (`STEPS`), each a function of the
 * context that returns early when its option is absent (imgproxy's shape). Order: auto-orient →
 * extract (crop) → trim → resize → padding → rotate → flip → effects → adjust → layers →
 * rounded corners → border → opacity → background (flatten) → encode. `e_trim` itself runs
 * before the plan, in a stage of its own (`trimFirst`), because the trimmed size decides the
 * geometry; a step that needs the exact pixels ends the stage as a raw frame and re-opens it
 * (render-context.ts `materialise`). Metadata is stripped (sharp's default converts to sRGB and
 * drops EXIF/XMP/ICC); `fl_keep_icc` keeps the source profile. Animated GIF/WebP stay animated
 * when the output format can animate.
 */
import sharp, { type OutputInfo, type Sharp } from 'sharp';
import { invalidTransformation } from '../../errors';
import { collectYoungGarbage } from '../../platform/memory';
import { isSharpTimeout, renderTimedOut, secondsLeft, type RenderDeadline } from './deadline';
import { placeByGravity, planGeometry, planResize, type GeometryLimits, type GeometryPlan, type Size } from './geometry';
import type { OutputFormat, Rgba, TransformOptions } from './options';
import type { ProbedImage } from './probe';
import { ENCODERS, FAIL_ON, type EncoderSettings } from './sharp-settings';
import { adjust, opacity, refuseAnimated } from './adjust';
import { backgroundOf, blurredPad, border, padding } from './frame';
import { layers, type ImageLayer } from './overlay';
import { fromRaw, materialise, rawOf, type Ctx, type RenderLimits } from './render-context';

export type { Ctx, RenderLimits } from './render-context';

type Step = (ctx: Ctx) => void | Promise<void>;

const toSharpColour = (c: Rgba) => ({ r: c.r, g: c.g, b: c.b, alpha: c.alpha / 255 });
const supportsAlpha = (f: OutputFormat) => f !== 'jpeg';

const SHARP_GRAVITY: Record<string, string | number> = {
  center: 'centre', north: 'north', south: 'south', east: 'east', west: 'west',
  north_east: 'northeast', north_west: 'northwest', south_east: 'southeast', south_west: 'southwest',
  auto: sharp.strategy.attention, entropy: sharp.strategy.entropy,
};
const has = (o: TransformOptions, name: string) => o.e?.some((e) => e.name === name) ?? false;
const amountOf = (o: TransformOptions, name: string) => o.e?.find((e) => e.name === name)?.amount;

/**
 * The exact output size when the plan alone gives it (a box the resize fills exactly, or the
 * `c_crop` region, upright or upside down), so that rounded corners need no raw frame.
 */
function exactSize(ctx: Ctx): Size | undefined {
  if (ctx.size) return ctx.size;
  const { plan, o } = ctx;
  const a = o.a ?? 0;
  const exactBox = plan.box.width !== undefined && plan.box.height !== undefined &&
    (plan.mode === 'fill' || plan.mode === 'thumb' || plan.mode === 'scale' || plan.mode === 'pad');
  const exactCrop = plan.mode === 'crop' && !has(o, 'trim');
  // Not after a quarter turn: sharp composites such an image before turning it.
  return (exactBox || exactCrop) && a % 180 === 0 ? plan.final : undefined;
}

const autoOrient: Step = (ctx) => {
  if (!ctx.trimmed) ctx.img = ctx.img.autoOrient();
};

const extract: Step = (ctx) => {
  if (ctx.plan.extract) ctx.img = ctx.img.extract(ctx.plan.extract);
};

/** Done by `trimFirst` before the plan is made (the trimmed size decides the geometry). */
const trim: Step = () => {};

/**
 * `g_auto`/`g_entropy` on an animation: libvips picks the crop on one image only, so it is
 * picked on the first frame (the same cover resize and strategy) and every frame is cut there.
 */
async function smartCoverAnimated(ctx: Ctx, width: number, height: number, strategy: number): Promise<void> {
  const { plan } = ctx;
  const pick = await ctx.firstFrame!().autoOrient()
    .resize({ width, height, fit: 'cover', position: strategy, withoutEnlargement: plan.mode === 'lfill' })
    .raw().toBuffer({ resolveWithObject: true });
  const scale = Math.max(width / ctx.input.width, height / ctx.input.height);
  if (plan.mode === 'lfill' && scale >= 1) {
    // Never enlarged: the frame is cut to the box (or kept, where smaller) without a resize.
    const w = Math.min(width, ctx.input.width);
    const h = Math.min(height, ctx.input.height);
    ctx.img = ctx.img.extract({ left: clampOffset(pick.info.cropOffsetLeft, ctx.input.width - w), top: clampOffset(pick.info.cropOffsetTop, ctx.input.height - h), width: w, height: h });
    return;
  }
  const covered = { width: Math.max(width, Math.round(ctx.input.width * scale)), height: Math.max(height, Math.round(ctx.input.height * scale)) };
  ctx.img = ctx.img.resize({ ...covered, fit: 'fill' }).extract({
    left: clampOffset(pick.info.cropOffsetLeft, covered.width - width), top: clampOffset(pick.info.cropOffsetTop, covered.height - height), width, height,
  });
}

/** sharp reports the strategy's offset as a negative number (or not at all when nothing was cut). */
const clampOffset = (offset: number | undefined, max: number) => Math.min(max, Math.max(0, Math.abs(offset ?? 0)));

const resize: Step = async (ctx) => {
  const { plan, o } = ctx;
  const { width, height } = plan.box;
  if (plan.mode === 'crop' || (width === undefined && height === undefined)) return;
  const position = SHARP_GRAVITY[plan.gravity] ?? 'centre';
  const background = toSharpColour(backgroundOf(o.b, ctx.format));
  switch (plan.mode) {
    case 'fill': case 'thumb': case 'lfill':
      if (ctx.animated && typeof position === 'number' && width !== undefined && height !== undefined) {
        await smartCoverAnimated(ctx, width, height, position);
        return;
      }
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
      // With `b_blurred` the bars are the blurred fill's (frame.ts): only the image is resized here.
      if (blurredPad(ctx)) ctx.img = ctx.img.resize({ width, height, fit: 'inside' });
      else ctx.img = ctx.img.resize({ width, height, fit: 'contain', position: typeof position === 'string' ? position : 'centre', background });
      return;
    case 'lpad': {
      // Never enlarge, but still pad to the requested box: resize inside, then extend around it.
      ctx.img = ctx.img.resize({ width, height, fit: 'inside', withoutEnlargement: true });
      const inner = innerSize(ctx.input, plan);
      const padX = Math.max(0, plan.output.width - inner.width);
      const padY = Math.max(0, plan.output.height - inner.height);
      if ((padX || padY) && !blurredPad(ctx)) {
        // Placed by `g`, as c_pad places it.
        const at = placeByGravity(plan.output, inner, plan.gravity === 'auto' || plan.gravity === 'entropy' ? 'center' : plan.gravity);
        const left = Math.min(padX, Math.max(0, at.left));
        const top = Math.min(padY, Math.max(0, at.top));
        ctx.img = ctx.img.extend({ left, right: padX - left, top, bottom: padY - top, background });
      }
    }
  }
};

/** Size after `inside` + `withoutEnlargement` into the plan's box (for `lpad`'s padding). */
function innerSize(source: Size, plan: GeometryPlan) {
  const sx = (plan.box.width ?? Infinity) / source.width;
  const sy = (plan.box.height ?? Infinity) / source.height;
  const scale = Math.min(1, sx, sy);
  return { width: Math.max(1, Math.round(source.width * scale)), height: Math.max(1, Math.round(source.height * scale)) };
}

const rotate: Step = async (ctx) => {
  const { o, plan } = ctx;
  if (!o.a) return;
  // libvips turns an animation's frames as one tall image: refused, not rendered wrong.
  refuseAnimated(ctx, 'a', `a_${o.a}`);
  // sharp applies a quarter turn as if it came before a resize or crop in the same pipeline
  // (w_120,h_80,c_fill,a_90 came out 80×80, c_pad,a_90 square: past the checked size), so after
  // one it turns the resized frame (≤ the checked output size) in a pipeline of its own.
  const quarter = o.a === 90 || o.a === 270;
  if (quarter && !ctx.animated && (plan.box.width !== undefined || plan.box.height !== undefined || plan.extract)) await materialise(ctx);
  ctx.img = ctx.img.rotate(o.a, { background: toSharpColour(backgroundOf(o.b, ctx.format)) });
  // A known size turns with the frame (exactly for quarter turns; other angles are measured again).
  if (ctx.size) ctx.size = quarter ? { width: ctx.size.height, height: ctx.size.width } : undefined;
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
  // sharp takes a sigma up to 10 (2000 would be 10.5, a 500): the strongest are one sharpening.
  if (has(o, 'sharpen')) ctx.img = ctx.img.sharpen({ sigma: Math.min(10, 0.5 + (amountOf(o, 'sharpen') ?? 100) / 200) });
  const block = amountOf(o, 'pixelate');
  if (block !== undefined) {
    refuseAnimated(ctx, 'e', 'pixelate');
    // Two resizes (down by the block, back up with nearest) need two pipelines. The full frame
    // lives only until the reduced one (≤ a quarter of it) exists, then is collected at once.
    const size = await materialise(ctx);
    const small = { width: Math.max(1, Math.round(size.width / block)), height: Math.max(1, Math.round(size.height / block)) };
    const reduced = await ctx.img.resize({ ...small, fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    ctx.img = fromRaw(ctx, reduced.data, reduced.info);
    collectYoungGarbage();
    ctx.img = ctx.img.resize({ ...size, fit: 'fill', kernel: 'nearest' });
  }
  if (has(o, 'grayscale')) ctx.img = ctx.img.grayscale();
  if (has(o, 'sepia')) ctx.img = ctx.img.recomb(SEPIA);
  if (has(o, 'negate')) ctx.img = ctx.img.negate({ alpha: false });
};

const roundCorners: Step = async (ctx) => {
  const r = ctx.o.r;
  if (r === undefined) return;
  refuseAnimated(ctx, 'r', `r_${r}`);
  const { width, height } = exactSize(ctx) ?? (await materialise(ctx));
  const rx = r === 'max' ? width / 2 : Math.min(r, width / 2);
  const ry = r === 'max' ? height / 2 : Math.min(r, height / 2);
  const mask = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" rx="${rx}" ry="${ry}"/></svg>`);
  ctx.img = ctx.img.ensureAlpha().composite([{ input: mask, blend: 'dest-in' }]);
};

const background: Step = (ctx) => {
  const b = ctx.o.b;
  // JPEG cannot carry alpha: flatten onto the background (white unless b_ says otherwise).
  if (!supportsAlpha(ctx.format)) ctx.img = ctx.img.flatten({ background: toSharpColour(backgroundOf(b, ctx.format)) });
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
  ['auto-orient', autoOrient], ['extract', extract], ['trim', trim], ['resize', resize], ['padding', padding], ['rotate', rotate],
  ['flip', flip], ['effects', effects], ['adjust', adjust], ['layers', layers], ['round-corners', roundCorners], ['border', border], ['opacity', opacity],
  ['background', background], ['encode', encode],
];

export interface RenderResult {
  body: Uint8Array;
  format: OutputFormat;
  width: number;
  height: number;
  channels: number;
}

/** A step of a chain (chain.ts): raw pixels in and/or out instead of encoded images, under the chain's one deadline. */
export interface ChainStage {
  rawInput?: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
  rawOutput?: boolean;
  deadline?: number;
}

/** Renders `input` (already probed) with `o` into `format`; `encoders` differ from the defaults only in bench/formats.ts. */
export async function renderImage(
  input: Buffer | string, source: ProbedImage, o: TransformOptions, format: OutputFormat, limits: RenderLimits,
  encoders: EncoderSettings = ENCODERS,
  signal?: AbortSignal,
  imageLayers: readonly ImageLayer[] = [],
  chain: ChainStage = {},
): Promise<RenderResult> {
  const deadline: RenderDeadline = { at: chain.deadline ?? Date.now() + limits.timeoutMs, signal };
  const animated = source.animated && (format === 'webp' || format === 'gif');
  const geometryLimits = { ...limits, maxAnimationPixels: limits.maxInputPixels };
  const rawInput = chain.rawInput;
  const open = () => (rawInput ? sharp(input, { raw: rawInput }) : sharp(input, { failOn: FAIL_ON, limitInputPixels: limits.maxInputPixels, animated }))
    .timeout({ seconds: secondsLeft(deadline) });
  try {
    let first: { img: Sharp; input: Size; plan: GeometryPlan; trimmed: boolean };
    if (has(o, 'trim')) {
      first = await trimFirst(open, source, o, geometryLimits, deadline, animated);
    } else {
      const size = { width: source.width, height: source.height };
      // Checked before a pixel is decoded: every step's size against the output limits.
      const plan = planGeometry(size, o, geometryLimits, animated ? source.pages : 1);
      first = { img: open(), input: size, plan, trimmed: false };
    }
    const firstFrame = () => sharp(input, { failOn: FAIL_ON, limitInputPixels: limits.maxInputPixels, animated: false }).timeout({ seconds: secondsLeft(deadline) });
    const ctx: Ctx = { ...first, o, source, format, animated, limits, encoders, deadline, layers: imageLayers, firstFrame };
    for (const [name, step] of STEPS) if (!(chain.rawOutput && name === 'encode')) await step(ctx);
    if (chain.rawOutput) ctx.img = ctx.img.raw();
    const { data, info } = await ctx.img.timeout({ seconds: secondsLeft(deadline) }).toBuffer({ resolveWithObject: true });
    return {
      body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      format,
      width: info.width,
      height: animated ? (info.pageHeight ?? info.height) : info.height,
      channels: info.channels,
    };
  } catch (err) {
    throw isSharpTimeout(err) ? renderTimedOut() : err;
  }
}

/**
 * `e_trim` removes a border whose size only the pixels tell, and the size after it decides
 * the resize (`w_800` alone on a trimmed strip could otherwise grow without bound). So the
 * oriented, cropped source is trimmed in a stage of its own and the geometry is planned and
 * checked on the exact trimmed size. That stage's raw frame is bounded like the output: a
 * trim input over MAX_OUTPUT_PIXELS is refused before decoding.
 */
async function trimFirst(
  open: () => Sharp, source: ProbedImage, o: TransformOptions, limits: GeometryLimits, deadline: RenderDeadline, animated: boolean,
): Promise<{ img: Sharp; input: Size; plan: GeometryPlan; trimmed: boolean }> {
  if (animated) throw invalidTransformation('e', 'trim on a still image (an animation cannot be trimmed)', 'trim');
  const region = planResize({ width: source.width, height: source.height }, o, limits).extract;
  const before = region ?? { width: source.width, height: source.height };
  if (before.width * before.height > limits.maxOutputPixels) {
    throw invalidTransformation('e', `trim on an image (after c_crop) of at most ${limits.maxOutputPixels} pixels`, `${before.width}x${before.height}`);
  }
  let img = open().autoOrient();
  if (region) {
    // Within one pipeline sharp trims before it extracts; the documented order is the reverse.
    const cropped = await img.extract(region).raw().toBuffer({ resolveWithObject: true });
    img = sharp(cropped.data, { raw: rawOf(cropped.info) }).timeout({ seconds: secondsLeft(deadline) });
  }
  let trimmed: { data: Buffer; info: OutputInfo };
  try {
    trimmed = await img.trim({ threshold: amountOf(o, 'trim') ?? 10 }).raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    if (isSharpTimeout(err)) throw err;
    // libvips refuses to trim what it cannot (under 3×3, or nothing but background).
    throw invalidTransformation('e', 'trim on an image with content to keep', (err as Error).message);
  }
  const size = { width: trimmed.info.width, height: trimmed.info.height };
  // The trimmed frame is smaller than the source checked above; the plan checks what is made of it.
  const plan = planGeometry(size, o, limits, 1, true);
  return { img: sharp(trimmed.data, { raw: rawOf(trimmed.info) }).timeout({ seconds: secondsLeft(deadline) }), input: size, plan, trimmed: true };
}
