/**
 * The upload step for video (called from files/ingest.ts `finishStaged`, so raw, multipart,
 * presigned and tus uploads all pass it): ffprobe on the stored object. A file sniffed as video
 * that ffprobe cannot read as one (truncated, corrupt, not really video) is refused with 415,
 * and the caller removes the object. The facts become the row's width/height and its `meta`
 * (what `/api/files/:id/metadata` answers), so nothing is probed twice.
 */
import type { AppDeps } from '../../deps';
import { unsupportedMediaType } from '../../errors';
import { ffprobePath } from './binaries';
import { probeVideo, type VideoInfo } from './probe';
import { withLocalSource } from './source';

export const isVideoType = (contentType: string): boolean => contentType.startsWith('video/');

export async function probeUploadedVideo(deps: Pick<AppDeps, 'config' | 'storage' | 'delivery'>, key: string, contentType: string): Promise<VideoInfo | null> {
  if (!isVideoType(contentType)) return null;
  const result = await withLocalSource(deps.storage, key, deps.delivery.cache.files, (path) => probeVideo(ffprobePath(deps.config), path, deps.config.video.probeTimeoutMs));
  if (!result.ok) {
    throw unsupportedMediaType(`The video cannot be read: ${result.reason}.`, { detected: contentType, reason: result.reason });
  }
  return result.info;
}

/** The `files.meta` of a video: the `/metadata` shape, with the probe under `video`. */
export function videoMeta(info: VideoInfo): Record<string, unknown> {
  return {
    format: info.container, width: info.width, height: info.height, pages: null, has_alpha: null, orientation: null,
    color_space: null, icc: null, exif: {}, blurhash: null, dominant_color: null, duration_s: info.duration_s, video: info,
  };
}

/** The probe stored on a file row, if it is a probed video. */
export function videoInfoOf(meta: Record<string, unknown> | null | undefined): VideoInfo | null {
  const v = meta?.video;
  return v && typeof v === 'object' && typeof (v as VideoInfo).duration_s === 'number' ? (v as VideoInfo) : null;
}
