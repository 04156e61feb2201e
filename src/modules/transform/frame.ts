/**
 * Steps that grow the frame: per-side padding (`pd_`), the blurred-background fill of padding
 * (`b_blurred`, for `pd_`, `c_pad` and `c_lpad`) and the border (`bo_`). Their sizes are in the
 * plan (geometry.ts: `padded`, `bordered`), checked against the output limits before decoding.
 *
 * sharp has one `extend` per pipeline and runs it after its rotation and flips whatever the call
 * order, so padding followed by a rotation or flip, and every border, start or end from a raw
 * frame (`materialise`, within the checked size).
 */
import sharp from 'sharp';
import { secondsLeft } from './deadline';
import { placeByGravity, type Size } from './geometry';
import type { OutputFormat, Rgba } from './options';
import { materialise, type Ctx } from './render-context';
import { refuseAnimated } from './adjust';

/** Largest Gaussian sigma the blurred fill draws at full size (see blurredFill). */
const BLUR_SIGMA_AT_FULL_SIZE = 10;
const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 255 };
const sharpColour = (c: Rgba) => ({ r: c.r, g: c.g, b: c.b, alpha: c.alpha / 255 });

/**
 * The colour painted behind an image (pad bars, `pd`, a rotation's corners, the flattening):
 * `b` as given where the format holds alpha (transparent by default), else `b` laid over white
 * (white by default). A transparent `b` on a JPEG painted black bars: JPEG dropped the alpha of
 * the bars, which sharp had filled before its flatten step could reach them.
 */
export function backgroundOf(b: Rgba | undefined, format: OutputFormat): Rgba {
  if (format !== 'jpeg') return b ?? TRANSPARENT;
  if (!b) return WHITE;
  const a = b.alpha / 255;
  const over = (v: number) => Math.round(v * a + 255 * (1 - a));
  return { r: over(b.r), g: over(b.g), b: over(b.b), alpha: 255 };
}

/** Padding in device pixels: top, right, bottom, left. */
export function paddingPx(pd: readonly number[] | undefined, dpr = 1): [number, number, number, number] {
  return pd ? (pd.map((v) => Math.round(v * dpr)) as [number, number, number, number]) : [0, 0, 0, 0];
}

/** Whether the resize step leaves `c_pad`/`c_lpad`'s bars to the blurred fill (it resizes inside only). */
export const blurredPad = (ctx: Ctx) => ctx.o.bblur !== undefined && (ctx.plan.mode === 'pad' || ctx.plan.mode === 'lpad');

/** `pd_` with a colour (`b_`, else transparent, or white for JPEG), or the blurred fill. */
export async function padding(ctx: Ctx): Promise<void> {
  const { o, plan } = ctx;
  if (!o.pd && !blurredPad(ctx)) return;
  refuseAnimated(ctx, o.pd ? 'pd' : 'b', o.pd ? 'pd' : 'b_blurred');
  const [top, right, bottom, left] = paddingPx(o.pd, o.dpr);
  if (o.bblur !== undefined) {
    await blurredFill(ctx, { top, right, bottom, left });
  } else {
    // `c_lpad` already spent this pipeline's extend on its bars.
    if (plan.mode === 'lpad') await materialise(ctx);
    ctx.img = ctx.img.extend({ top, right, bottom, left, background: sharpColour(backgroundOf(o.b, ctx.format)) });
    if (ctx.size) ctx.size = { width: ctx.size.width + left + right, height: ctx.size.height + top + bottom };
  }
  // A rotation or flip must turn the padded frame, not be run by sharp before the extend.
  if (o.a || o.fl?.includes('hflip') || o.fl?.includes('vflip')) await materialise(ctx);
}

/**
 * The frame placed on a blurred copy of itself that covers the padded box: `c_pad`/`c_lpad`'s
 * box (the frame at the gravity inside it) plus `pd_`'s sides. Gaussian sigma = strength / 10.
 */
async function blurredFill(ctx: Ctx, pd: { top: number; right: number; bottom: number; left: number }): Promise<void> {
  const { data, info } = await ctx.img.raw().timeout({ seconds: secondsLeft(ctx.deadline) }).toBuffer({ resolveWithObject: true });
  const inner: Size = { width: info.width, height: info.height };
  const box = blurredPad(ctx) ? { width: Math.max(ctx.plan.output.width, inner.width), height: Math.max(ctx.plan.output.height, inner.height) } : inner;
  const target = { width: box.width + pd.left + pd.right, height: box.height + pd.top + pd.bottom };
  const gravity = ctx.plan.gravity === 'auto' || ctx.plan.gravity === 'entropy' || ctx.plan.gravity === 'face' ? 'center' : ctx.plan.gravity;
  const at = placeByGravity(box, inner, gravity);
  const raw = { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 };
  const sigma = Math.max(0.3, (ctx.o.bblur as number) / 10);
  // A Gaussian costs in proportion to its sigma: past BLUR_SIGMA_AT_FULL_SIZE it is drawn on a
  // copy shrunk by sigma / that (the same blur, scaled) and enlarged again, so b_blurred:2000
  // costs about what b_blurred:100 does.
  const shrink = Math.max(1, sigma / BLUR_SIGMA_AT_FULL_SIZE);
  let background = sharp(data, { raw }).resize(target.width, target.height, { fit: 'cover' }).blur(sigma);
  if (shrink > 1) {
    const small = { width: Math.max(1, Math.round(target.width / shrink)), height: Math.max(1, Math.round(target.height / shrink)) };
    const blurred = await sharp(data, { raw }).resize(small.width, small.height, { fit: 'cover' }).blur(sigma / shrink)
      .raw().timeout({ seconds: secondsLeft(ctx.deadline) }).toBuffer({ resolveWithObject: true });
    background = sharp(blurred.data, { raw: { width: blurred.info.width, height: blurred.info.height, channels: blurred.info.channels as 1 | 2 | 3 | 4 } })
      .resize(target.width, target.height, { fit: 'fill' });
  }
  const composed = await background
    .composite([{ input: data, raw, left: at.left + pd.left, top: at.top + pd.top }])
    .raw()
    .timeout({ seconds: secondsLeft(ctx.deadline) })
    .toBuffer({ resolveWithObject: true });
  ctx.img = sharp(composed.data, { raw: { width: composed.info.width, height: composed.info.height, channels: composed.info.channels as 1 | 2 | 3 | 4 } })
    .timeout({ seconds: secondsLeft(ctx.deadline) });
  ctx.size = { width: composed.info.width, height: composed.info.height };
}

/** `bo_<w>px_solid_<colour>`: `w × dpr` px of the colour around the frame, after rounded corners. */
export async function border(ctx: Ctx): Promise<void> {
  const bo = ctx.o.bo;
  if (!bo) return;
  refuseAnimated(ctx, 'bo', 'bo');
  const w = Math.max(1, Math.round(bo.width * (ctx.o.dpr ?? 1)));
  const size = await materialise(ctx);
  ctx.img = ctx.img.extend({ top: w, right: w, bottom: w, left: w, background: sharpColour(bo.colour) });
  ctx.size = { width: size.width + 2 * w, height: size.height + 2 * w };
}
