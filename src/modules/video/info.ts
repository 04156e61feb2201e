/** The probe stored with a video's row (`files.meta.video`), cached by content digest. */
import { eq } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { CoreDeps } from '../../deps';
import { invalidTransformation, notFound } from '../../errors';
import { files } from '../files/table';
import type { TransformOptions } from '../transform/options';
import { renditionSizeProblem } from './geometry';
import type { VideoInfo } from './probe';
import { videoInfoOf } from './upload';

const cache = new LRUCache<string, VideoInfo>({ max: 10_000 });

export async function videoInfo(deps: CoreDeps, file: { id: string; sha256: string }): Promise<VideoInfo> {
  const hit = cache.get(file.sha256);
  if (hit) return hit;
  const [row] = await deps.db.select({ meta: files.meta }).from(files).where(eq(files.id, file.id)).limit(1);
  if (!row) throw notFound('File');
  const info = videoInfoOf(row.meta);
  // Uploaded before videos were probed: nothing to render from until it is uploaded again.
  if (!info) throw invalidTransformation('file', 'a video probed at upload', 'no video metadata');
  cache.set(file.sha256, info);
  return info;
}

/** Sources over `VIDEO_MAX_PIXELS` (and, for renditions, `VIDEO_MAX_DURATION`) answer 400. */
export function checkSourceLimits(deps: Pick<CoreDeps, 'config'>, info: VideoInfo, transcode: boolean): void {
  const v = deps.config.video;
  if (info.width * info.height > v.maxPixels) {
    throw invalidTransformation('file', `a video of at most ${v.maxPixels} pixels per frame (VIDEO_MAX_PIXELS)`, `${info.width}x${info.height}`);
  }
  if (transcode && info.duration_s > v.maxDurationS) {
    throw invalidTransformation('file', `a video of at most ${v.maxDurationS} s to transcode (VIDEO_MAX_DURATION)`, `${info.duration_s} s`);
  }
}

/**
 * A rendition's output frame over `VIDEO_MAX_PIXELS` (or the image limits `MAX_OUTPUT_PIXELS` and
 * `MAX_DIMENSION`, whichever is smaller) answers 400 before any job is made.
 */
export function checkRenditionSize(
  deps: Pick<CoreDeps, 'config'>, limits: { maxDimension: number; maxOutputPixels: number }, info: VideoInfo, options: TransformOptions, canonical: string,
): void {
  const maxPixels = Math.min(deps.config.video.maxPixels, limits.maxOutputPixels);
  const problem = renditionSizeProblem(info, options, maxPixels, limits.maxDimension);
  if (problem) {
    throw invalidTransformation('w', `a rendition of at most ${maxPixels} pixels per frame (VIDEO_MAX_PIXELS) and ${limits.maxDimension} per side; this one would be ${problem}`, canonical);
  }
}

/**
 * Everything a rendition is refused for (400) before a job is made, for a URL and for an eager
 * rendition at upload alike: the source limits, the output frame, and a start time past the end.
 */
export function checkRendition(
  deps: Pick<CoreDeps, 'config'>, limits: { maxDimension: number; maxOutputPixels: number }, info: VideoInfo, options: TransformOptions, canonical: string,
): void {
  checkSourceLimits(deps, info, true);
  checkRenditionSize(deps, limits, info, options, canonical);
  const start = options.so ?? 0;
  if (start >= info.duration_s) throw invalidTransformation('so', `a time before the end of the video (under ${info.duration_s} s)`, String(start));
}
