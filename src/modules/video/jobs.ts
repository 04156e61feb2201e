/**
 * The `video_render` job: one rendition (rendition.ts enqueues it) transcoded by ffmpeg from the
 * stored video into the derivative cache's temp folder, then moved into place. Bounded every way
 * a hostile file could push: source duration and frame size (checked before ffmpeg starts),
 * output size (`-fs` plus a check), wall time (`VIDEO_TIMEOUT_MS`, then SIGKILL), and at most
 * `VIDEO_CONCURRENCY` transcodes per process, apart from the image pool. A job makes one
 * attempt (the same bytes mostly fail the same way; rendition.ts asks again after a while, or
 * under other settings), fails with ffmpeg's own last error line, and leaves no file behind.
 */
import { stat, unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { AppDeps } from '../../deps';
import { AppError } from '../../errors';
import { runProcess } from '../../platform/child-process';
import { derivativeKey } from '../cache/derivatives';
import { parseTransformation } from '../transform/parse';
import { ffmpegPath } from './binaries';
import { renditionArgs } from './geometry';
import { checkRendition, videoInfo } from './info';
import { lastLine } from './probe';
import { progressReader, throttledPercent } from './progress';
import { VIDEO_RENDER_JOB, type RenditionPayload } from './rendition';
import { withLocalSource } from './source';
import { storeRendition } from './stored';
import type { DerivativeKey } from '../cache/types';

/** A counting semaphore: the per-process transcode limit. */
function createLimiter(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * ffmpeg's own bound on its CPU time (`-timelimit`, seconds of CPU across its threads): never
 * reached before `VIDEO_TIMEOUT_MS` of wall time on this many cores, it stops a transcode whose
 * server died (SIGKILL) before a restart's sweep does (lib/owned-temp.ts).
 */
const cpuLimit = (timeoutMs: number): string[] => ['-timelimit', String(Math.ceil(timeoutMs / 1000) * availableParallelism())];

const readPayload = (p: Record<string, unknown>): RenditionPayload => {
  const { file_id, sha256, canonical, ext, variant, asked_by, store } = p;
  if (typeof file_id !== 'string' || typeof sha256 !== 'string' || typeof canonical !== 'string' || typeof variant !== 'string' || (ext !== 'mp4' && ext !== 'webm')) {
    throw new Error('video_render job with a malformed payload');
  }
  return { file_id, sha256, canonical, ext, variant, asked_by: typeof asked_by === 'string' ? asked_by : undefined, store: store === true };
};

/** Transcodes one rendition; returns the output size. `onFraction` hears how far it got (0–1). Exported for the bench. */
export async function transcode(deps: AppDeps, p: RenditionPayload, signal?: AbortSignal, onFraction?: (fraction: number) => void): Promise<number> {
  const delivery = deps.delivery;
  // Captured before the lookup: a purge after it (the video deleted meanwhile) keeps the result out of the cache.
  const epoch = delivery.cache.epochOf(p.sha256);
  const file = await delivery.lookup.get(p.file_id);
  if (!file || file.sha256 !== p.sha256) throw new Error('the video was deleted or replaced');
  const info = await videoInfo(deps, file);
  const options = parseTransformation(p.canonical || 'so_0', undefined, delivery.limits, delivery.presets).options;
  try {
    checkRendition(deps, delivery.limits, info, options, p.canonical); // a job queued before the checks existed
  } catch (err) {
    throw new Error(err instanceof AppError ? err.message : String(err));
  }
  const key = derivativeKey(p.sha256, p.canonical, p.ext);
  await delivery.cache.files.ready;
  const done = await delivery.cache.files.fileOf(key);
  if (done) { // made meanwhile by a twin job, or before for a process with another cache
    await shareIfAsked(deps, p, key, done.path, epoch, true);
    return done.size;
  }
  const v = deps.config.video;
  // A rendition lives in the disk cache, which keeps files up to an eighth of its size.
  const kept = delivery.cache.files.largest;
  if (kept === 0) throw new Error('renditions are kept in the derivative disk cache, which is off (CACHE_DISK_BYTES=0)');
  const cap = Math.min(v.maxOutputBytes, kept);
  const capName = cap === v.maxOutputBytes ? 'VIDEO_MAX_OUTPUT_BYTES' : 'CACHE_DISK_BYTES / 8, the largest file the disk cache keeps';
  const tmp = delivery.cache.files.tempPath();
  let frames: number | undefined;
  try {
    const run = await withLocalSource(deps.storage, file.storageKey, delivery.cache.files, (input) => {
      const plan = renditionArgs(input, tmp, info, options, p.ext, cap);
      const onStdout = progressReader(plan.duration, (f) => onFraction?.(f), (n) => { frames = n; });
      return runProcess(ffmpegPath(deps.config), [...cpuLimit(v.timeoutMs), ...plan.args], { timeoutMs: v.timeoutMs, maxStdoutBytes: 1024 * 1024, signal, onStdout });
    });
    if (run.killed === 'timeout') throw new Error(`the transcode took longer than ${v.timeoutMs} ms (VIDEO_TIMEOUT_MS) and was stopped`);
    if (run.killed === 'aborted') throw new Error('the transcode was stopped (job cancelled or worker shutting down)');
    if (run.code !== 0) throw new Error(`ffmpeg could not transcode the video: ${lastLine(run.stderr) || `exit code ${run.code}`}`);
    const size = (await stat(tmp)).size;
    if (size >= cap) throw new Error(`the rendition reached the maximum output size of ${cap} bytes (${capName})`);
    if (size === 0) throw new Error('ffmpeg wrote an empty rendition');
    // ffmpeg succeeds with no picture when `so` falls after the last frame (`so_2.99` of a 3 s clip).
    if (frames === 0) throw new Error(`the video has no frame from ${options.so ?? 0} s on, so the rendition would have no picture`);
    if (!(await delivery.cache.files.adopt(key, tmp, size, epoch))) throw new Error('the video was deleted while its rendition was made');
    const made = await delivery.cache.files.fileOf(key);
    if (made) await shareIfAsked(deps, p, key, made.path, epoch, false);
    return size;
  } finally {
    await unlink(tmp).catch(() => {}); // gone already after a successful adopt
  }
}

/**
 * Stores the rendition for the process that asked when its cache folder is another (stored.ts).
 * A job that says `store` came from a process with this folder's id that found the rendition
 * nowhere: when this folder had it (`wasHere`) the two folders are not one (a copy of it, id
 * included), so it is stored; when it had to be made again, it was evicted from the one folder
 * they share, and is not. A failure fails the job with its reason: the asker answers 422 with it
 * (it answered 202 at every poll, queueing the job again each time).
 */
async function shareIfAsked(deps: AppDeps, p: RenditionPayload, key: DerivativeKey, path: string, epoch: number, wasHere: boolean): Promise<void> {
  if (!p.asked_by && !p.store) return;
  const own = await deps.delivery.cache.files.identity().catch(() => undefined);
  if (own === p.asked_by && !(p.store && wasHere)) return;
  await storeRendition(deps, key, path, epoch);
}

export function registerVideoJobs(deps: AppDeps): void {
  // Only this job transcodes: its limit lives with its registration, one per app.
  const run = createLimiter(deps.config.video.concurrency);
  deps.queue.register(VIDEO_RENDER_JOB, async ({ job, signal, setProgress }) => {
    const payload = readPayload(job.payload);
    await setProgress(5);
    // The job's progress follows ffmpeg's (it went from 5 % to 100 % at once). A failed write is
    // not the transcode's failure; a cancel found by it aborts `signal`, which stops ffmpeg.
    const step = throttledPercent(5, 99, 1000, (percent) => void setProgress(percent).catch(() => {}));
    await run(() => transcode(deps, payload, signal, step));
  });
}
