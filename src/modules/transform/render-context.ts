/**
 * The state a render's steps share (pipeline.ts runs them; adjust.ts, frame.ts and overlay.ts
 * hold some), and the one operation they all need on it. In its own file so that the step files
 * and the pipeline that lists them do not import each other.
 */
import sharp, { type Sharp } from 'sharp';
import { secondsLeft, type RenderDeadline } from './deadline';
import type { GeometryLimits, GeometryPlan, Size } from './geometry';
import type { ImageLayer } from './overlay';
import type { OutputFormat, TransformOptions } from './options';
import type { ProbedImage } from './probe';
import type { EncoderSettings } from './sharp-settings';

export interface RenderLimits extends GeometryLimits {
  maxInputPixels: number;
  timeoutMs: number;
}

export interface Ctx {
  img: Sharp;
  readonly o: TransformOptions;
  readonly plan: GeometryPlan;
  /** What the resize step sees: the oriented source, or the trimmed region after `e_trim`. */
  readonly input: Size;
  /** Already auto-oriented, cropped and trimmed by the trim stage (`trimFirst`). */
  readonly trimmed: boolean;
  readonly deadline: RenderDeadline;
  /** The exact size of the pixels so far, once a stage has produced them (materialise). */
  size?: Size;
  readonly source: ProbedImage;
  readonly format: OutputFormat;
  readonly animated: boolean;
  readonly limits: RenderLimits;
  readonly encoders: EncoderSettings;
  /** Image layers (overlay.ts) resolved by the service: the URL's `l_` and a forced watermark. */
  readonly layers?: readonly ImageLayer[];
  /** The source's first frame alone (an animation's steps that libvips runs on one image only). */
  readonly firstFrame?: () => Sharp;
}

/** sharp's raw-input descriptor of a frame's `info`. */
export const rawOf = (info: { width: number; height: number; channels: number }) =>
  ({ width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 });
/** A pipeline over raw pixels, under the render's deadline. */
export const fromRaw = (ctx: Ctx, data: Buffer, info: { width: number; height: number; channels: number }) =>
  sharp(data, { raw: rawOf(info) }).timeout({ seconds: secondsLeft(ctx.deadline) });

/**
 * Ends the stage so far as raw pixels and re-opens a pipeline on them: needed where a step must
 * know the exact size or resize twice. The frame is at most the plan's checked final size
 * (≤ MAX_OUTPUT_PIXELS × 4 bytes); it is the only full raw frame a render materialises.
 */
export async function materialise(ctx: Ctx): Promise<Size> {
  const { data, info } = await ctx.img.raw().timeout({ seconds: secondsLeft(ctx.deadline) }).toBuffer({ resolveWithObject: true });
  ctx.img = fromRaw(ctx, data, info);
  ctx.size = { width: info.width, height: info.height };
  return ctx.size;
}
