/**
 * Where ffmpeg and ffprobe are: `FFMPEG_PATH`/`FFPROBE_PATH` when set, else the binaries the
 * npm packages `@ffmpeg-installer/ffmpeg` and `@ffprobe-installer/ffprobe` ship for this
 * platform (so installing Pictor stays `npm install`).
 */
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';
import type { Config } from '../../config';

export const ffmpegPath = (c: Pick<Config, 'video'>): string => c.video.ffmpegPath ?? ffmpegInstaller.path;
export const ffprobePath = (c: Pick<Config, 'video'>): string => c.video.ffprobePath ?? ffprobeInstaller.path;
