/**
 * Poster frames: `/t/<image transformations>[,so_<s>]/<video id>`. ffmpeg decodes the one frame
 * at `so` (default min(1 s, 10 % of the duration)), auto-rotated, as PNG into memory; the image
 * pipeline then applies every image parameter to it, `f_auto` included, and the derivative
 * cache keeps the result like any other. The frame is at most `VIDEO_MAX_PIXELS` (checked
 * before ffmpeg starts), so its PNG is bounded too.
 */
import type { CoreDeps } from '../../deps';
import { invalidTransformation, unprocessableImage } from '../../errors';
import { runProcess } from '../../platform/child-process';
import type { FileLookup } from '../cache/lookup';
import type { TransformOptions } from '../transform/options';
import { ffmpegPath } from './binaries';
import { checkSourceLimits, videoInfo } from './info';
import { lastLine } from './probe';
import { withLocalSource, type TempFiles } from './source';

/** Where the default poster is taken: early, but past a fade-in from black. */
export const defaultPosterOffset = (duration: number): number => Math.round(Math.min(1, duration * 0.1) * 1000) / 1000;

/** The arguments that extract one frame at `at` seconds as PNG on stdout (the tests and bench run the same). */
export const posterArgs = (input: string, at: number): string[] => [
  '-hide_banner', '-nostdin', '-v', 'error', '-ss', String(at), '-i', input,
  '-map', '0:v:0', '-frames:v', '1', '-an', '-sn', '-dn', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1',
];

export async function extractPoster(deps: CoreDeps, temp: TempFiles, file: FileLookup, o: TransformOptions, signal?: AbortSignal): Promise<Buffer> {
  const info = await videoInfo(deps, file);
  checkSourceLimits(deps, info, false);
  const at = o.so ?? defaultPosterOffset(info.duration_s);
  if (at >= info.duration_s) throw invalidTransformation('so', `a time before the end of the video (under ${info.duration_s} s)`, String(at));
  // A PNG is never much larger than the raw RGBA frame.
  const maxBytes = info.width * info.height * 4 + 1024 * 1024;
  const frameAt = (path: string, time: number) =>
    runProcess(ffmpegPath(deps.config), posterArgs(path, time), { timeoutMs: deps.config.transformTimeoutMs, maxStdoutBytes: maxBytes, signal });
  const run = await withLocalSource(deps.storage, file.storageKey, temp, async (path) => {
    const first = await frameAt(path, at);
    // The default time can fall after the only frame of a very short clip (one frame at 0): its first frame then.
    const none = first.code === 0 && first.stdout.byteLength === 0 && first.killed === undefined;
    return none && o.so === undefined && at > 0 ? frameAt(path, 0) : first;
  });
  // A time the probe's duration allows but past the last frame (`so_3.99` of a 4 s clip at 25 fps):
  // ffmpeg succeeds with no frame. The time was wrong, not the video (a 422 blamed the video).
  if (run.code === 0 && run.stdout.byteLength === 0 && o.so !== undefined && run.killed === undefined) {
    throw invalidTransformation('so', `a time at which the video has a frame (its last frame comes before ${at} s)`, String(at));
  }
  if (run.code !== 0 || run.stdout.byteLength === 0) {
    const reason = run.killed === 'timeout' ? 'ffmpeg took too long to decode the frame'
      : run.killed === 'output' ? 'the decoded frame is larger than the video\'s size allows'
      : lastLine(run.stderr) || 'ffmpeg produced no frame at that time';
    throw unprocessableImage(`the video frame cannot be decoded (${reason})`);
  }
  return run.stdout;
}
