/**
 * Chained transformations (`/t/<step>/<step>/…/<id>`, parse.ts): each step is a whole render of
 * the pipeline with its own options, the next step starting from the previous one's pixels.
 *
 * Between steps the frame stays raw (no encode/decode), and every step plans and checks its
 * geometry before it decodes, like a single render: each intermediate frame is within the
 * output limits (≤ MAX_OUTPUT_PIXELS × 4 bytes), and a step's frame is dropped once the next
 * holds its own. All steps share the render's one deadline. An animated source is rendered as
 * its first frame (a chain makes a still image); image layers (`l_`) apply in the last step.
 */
import type { EncoderSettings } from './sharp-settings';
import type { OutputFormat, ParsedTransformation } from './options';
import type { ImageLayer } from './overlay';
import { renderImage, type RenderLimits, type RenderResult } from './pipeline';
import type { ProbedImage } from './probe';

export async function renderTransformation(
  input: Buffer | string, source: ProbedImage, parsed: ParsedTransformation, format: OutputFormat, limits: RenderLimits,
  encoders?: EncoderSettings, signal?: AbortSignal, imageLayers: readonly ImageLayer[] = [],
): Promise<RenderResult> {
  const steps = parsed.steps;
  if (!steps) return renderImage(input, source, parsed.options, format, limits, encoders, signal, imageLayers);
  const deadline = Date.now() + limits.timeoutMs;
  let current: Buffer | string = input;
  let probed: ProbedImage = { ...source, animated: false, pages: 1 };
  let rawInput: { width: number; height: number; channels: 1 | 2 | 3 | 4 } | undefined;
  for (let i = 0; i < steps.length; i++) {
    const last = i === steps.length - 1;
    const out = await renderImage(
      current, probed, steps[i] as NonNullable<typeof steps>[number], last ? format : 'png', limits, encoders, signal,
      last ? imageLayers : [], { rawInput, rawOutput: !last, deadline },
    );
    if (last) return out;
    current = Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength);
    rawInput = { width: out.width, height: out.height, channels: out.channels as 1 | 2 | 3 | 4 };
    probed = { format: 'raw', width: out.width, height: out.height, pages: 1, hasAlpha: out.channels === 2 || out.channels === 4, animated: false };
  }
  throw new Error('unreachable: a chain has at least one step');
}
