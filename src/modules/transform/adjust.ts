/**
 * The colour adjustments of `e_` (gamma, saturation, hue, brightness, contrast, tint, vignette)
 * and the opacity `o_`, as pipeline steps (pipeline.ts `STEPS`).
 *
 * sharp runs the operations of one pipeline in its own fixed order (gamma, …, recomb, composite,
 * linear), not in call order, and keeps one slot per operation (a second `recomb` replaces the
 * first, `e_sepia`'s). So these steps start from the frame so far made raw (`materialise`, a
 * frame within the checked output size) and end raw again, and group only what sharp orders as
 * documented: gamma → saturation and hue (one 3×3 matrix) → brightness, contrast and tint (one
 * per-channel `a·x + b`) → vignette → opacity. Formulas (x in 0–255, each channel of RGB):
 * - gamma g: x' = 255·(x/255)^(1/γ), γ = 1 + g/100 (positive brightens);
 * - saturation s: the W3C `saturate` matrix with k = 1 + s/100 (−100 is grey);
 * - hue h: the W3C `hueRotate` matrix by h × 1.8° (±100 = half a turn);
 * - brightness b: x' = x·(1 + b/100); contrast c: x' = (x − 128)·(1 + c/100) + 128;
 * - tint t with colour C: x' = x·(1 − t/100) + C·t/100;
 * - vignette v: darkened towards black by v/100 · d², d the distance from the centre (1 in the corners);
 * - opacity o: alpha' = alpha·o/100 (flattened onto `b` for JPEG).
 * Animations are refused (400): their frames would be made one still frame.
 */
import sharp from 'sharp';
import { invalidTransformation } from '../../errors';
import { secondsLeft } from './deadline';
import type { Effect, EffectName } from './options';
import { materialise, type Ctx } from './render-context';

export const ADJUSTMENTS: readonly EffectName[] = ['gamma', 'saturation', 'hue', 'brightness', 'contrast', 'tint', 'vignette'];

type Matrix = [[number, number, number], [number, number, number], [number, number, number]];

const multiply = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) => [0, 1, 2].map((j) => row[0] * (b[0][j] as number) + row[1] * (b[1][j] as number) + row[2] * (b[2][j] as number))) as Matrix;

/** W3C Filter Effects `saturate(k)`. */
export function saturateMatrix(k: number): Matrix {
  return [
    [0.213 + 0.787 * k, 0.715 - 0.715 * k, 0.072 - 0.072 * k],
    [0.213 - 0.213 * k, 0.715 + 0.285 * k, 0.072 - 0.072 * k],
    [0.213 - 0.213 * k, 0.715 - 0.715 * k, 0.072 + 0.928 * k],
  ];
}

/** W3C Filter Effects `hue-rotate(degrees)`. */
export function hueMatrix(degrees: number): Matrix {
  const r = (degrees * Math.PI) / 180;
  const c = Math.cos(r);
  const s = Math.sin(r);
  return [
    [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
    [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.14, 0.072 - c * 0.072 - s * 0.283],
    [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
  ];
}

const IDENTITY: Matrix = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

const find = (effects: readonly Effect[], name: EffectName) => effects.find((e) => e.name === name);

/** The refusal for a step that needs a still frame. */
export function refuseAnimated(ctx: Ctx, key: string, what: string): void {
  if (ctx.animated) throw invalidTransformation(key, `${what} on a still image (render an animation with f_png or f_jpg for its first frame)`, what);
}

/** The vignette's darkening as an RGBA overlay (black, alpha = strength·d²) drawn small and scaled to the frame. */
async function vignetteOverlay(width: number, height: number, strength: number): Promise<Buffer> {
  const w = Math.min(width, 256);
  const h = Math.min(height, 256);
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = ((x + 0.5) / w) * 2 - 1;
      const dy = ((y + 0.5) / h) * 2 - 1;
      data[(y * w + x) * 4 + 3] = Math.round(255 * strength * Math.min(1, (dx * dx + dy * dy) / 2));
    }
  }
  return sharp(data, { raw: { width: w, height: h, channels: 4 } }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
}

/** Gamma, saturation, hue, brightness, contrast, tint and vignette (`e_`), in that order. */
export async function adjust(ctx: Ctx): Promise<void> {
  const effects = ctx.o.e?.filter((e) => ADJUSTMENTS.includes(e.name)) ?? [];
  if (effects.length === 0) return;
  refuseAnimated(ctx, 'e', effects.map((e) => e.name).join('.'));
  await materialise(ctx);

  const gamma = find(effects, 'gamma')?.amount;
  if (gamma !== undefined && gamma !== 0) {
    // sharp's gamma: a pre-step x^g and a post-step x^(1/g'), each for 1 ≤ g ≤ 3; γ is 0.5 to 2.5.
    const exponent = 1 + gamma / 100;
    ctx.img = exponent >= 1 ? ctx.img.gamma(1, exponent) : ctx.img.gamma(1 / exponent, 1);
    await materialise(ctx);
  }

  const saturation = find(effects, 'saturation')?.amount;
  const hue = find(effects, 'hue')?.amount;
  const brightness = find(effects, 'brightness')?.amount;
  const contrast = find(effects, 'contrast')?.amount;
  const tint = find(effects, 'tint');
  if (saturation !== undefined || hue !== undefined || brightness !== undefined || contrast !== undefined || tint) {
    let m = IDENTITY;
    if (saturation !== undefined) m = saturateMatrix(1 + saturation / 100);
    if (hue !== undefined) m = multiply(hueMatrix(hue * 1.8), m);
    // Always a recomb: it also makes a grey frame RGB, which the per-channel linear below needs.
    ctx.img = ctx.img.recomb(m);
    // Brightness, then contrast, then tint, composed into one a·x + b per channel.
    let a = [1, 1, 1];
    let b = [0, 0, 0];
    if (brightness !== undefined) a = a.map((v) => v * (1 + brightness / 100));
    if (contrast !== undefined) {
      const k = 1 + contrast / 100;
      a = a.map((v) => v * k);
      b = b.map((v) => v * k + 128 * (1 - k));
    }
    if (tint?.amount !== undefined) {
      const t = tint.amount / 100;
      const c = tint.colour ?? { r: 255, g: 0, b: 0 };
      const colour = [c.r, c.g, c.b];
      a = a.map((v) => v * (1 - t));
      b = b.map((v, i) => v * (1 - t) + (colour[i] as number) * t);
    }
    if (a.some((v) => v !== 1) || b.some((v) => v !== 0)) ctx.img = ctx.img.linear(a, b);
    await materialise(ctx);
  }

  const vignette = find(effects, 'vignette')?.amount;
  if (vignette) {
    const size = ctx.size as { width: number; height: number };
    // `atop`: drawn only where the frame is, so transparent pixels stay transparent.
    const overlay = await vignetteOverlay(size.width, size.height, vignette / 100);
    ctx.img = ctx.img.composite([{ input: overlay, raw: { width: size.width, height: size.height, channels: 4 }, blend: 'atop' }]);
    await materialise(ctx);
  }
}

/** `o_`: the alpha multiplied by o/100; ends raw so that the JPEG flatten (an earlier sharp stage) sees the new alpha. */
export async function opacity(ctx: Ctx): Promise<void> {
  const o = ctx.o.o;
  if (o === undefined) return;
  refuseAnimated(ctx, 'o', `o_${o}`);
  const { width, height } = await materialise(ctx);
  const layer = { create: { width, height, channels: 4 as const, background: { r: 0, g: 0, b: 0, alpha: o / 100 } } };
  ctx.img = ctx.img.ensureAlpha().composite([{ input: layer, blend: 'dest-in' }]).timeout({ seconds: secondsLeft(ctx.deadline) });
  await materialise(ctx);
}
