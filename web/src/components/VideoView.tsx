import { useState } from 'preact/hooks';
import type { FileItem } from '../api';
import { RenditionVideo } from './Rendition';

/** What `/api/files/:id/metadata` says about a video (probed at upload). */
export interface VideoMeta {
  duration_s: number;
  width: number;
  height: number;
  rotation: number;
  fps: number | null;
  video_codec: string;
  audio_codec: string | null;
  bit_rate: number | null;
  container: string;
}

type Version = 'original' | 'mp4' | 'webm';

/** The default rendition: at most 1280 px wide, never upscaled (`c_limit`). */
export const DEFAULT_RENDITION = 'w_1280,c_limit';
export const posterPath = (id: string, width = 1280) => `/t/w_${width},f_auto/${id}`;
export const renditionPath = (id: string, tx: string, ext: 'mp4' | 'webm') => `/t/${tx}/${id}.${ext}`;

const canPlay = (type: string) => typeof document !== 'undefined' && document.createElement('video').canPlayType(type) !== '';

/**
 * A video's preview: the poster frame (`/t` renders it from the video) and a player. The original
 * plays directly when this browser can decode it; a transcoded rendition is the lighter version
 * (and the only one for a format the browser cannot play). Private files are not served by `/t`,
 * so they play the signed original only.
 */
export function VideoView({ file, original }: { file: FileItem; original: string }) {
  const playable = canPlay(file.content_type);
  const renditionExt: 'mp4' | 'webm' = canPlay('video/mp4') ? 'mp4' : 'webm';
  const [version, setVersion] = useState<Version>(playable || !file.is_public ? 'original' : renditionExt);
  const poster = file.is_public ? posterPath(file.id) : undefined;
  return (
    <div class="video-view">
      {version === 'original' ? (
        original ? <video key="original" src={original} poster={poster} controls preload="metadata" aria-label={file.name} /> : null
      ) : (
        <RenditionVideo src={renditionPath(file.id, DEFAULT_RENDITION, version)} poster={poster} label={`${file.name} (${version.toUpperCase()} rendition)`} />
      )}
      {file.is_public && (
        <div class="video-controls">
          <label for="video-version">Play</label>
          <select id="video-version" value={version} onChange={(e) => setVersion((e.currentTarget as HTMLSelectElement).value as Version)}>
            <option value="original" disabled={!playable}>The original{playable ? '' : ' (this browser cannot play it)'}</option>
            <option value="mp4">Lighter: MP4, at most 1280 px wide</option>
            <option value="webm">Lighter: WebM, at most 1280 px wide</option>
          </select>
        </div>
      )}
      {poster && (
        <figure class="poster">
          <img src={posterPath(file.id, 320)} alt={`Poster frame of ${file.name}`} />
          <figcaption>Poster frame</figcaption>
        </figure>
      )}
    </div>
  );
}

/** Facts rows for a video's probed metadata (the container is the Format row already). */
export function VideoFacts({ v }: { v: VideoMeta }) {
  return (
    <>
      <dt>Duration</dt><dd>{v.duration_s.toFixed(1)} s</dd>
      <dt>Video</dt><dd>{v.width} × {v.height} px · {v.video_codec}{v.fps ? ` · ${Math.round(v.fps * 100) / 100} fps` : ''}{v.rotation ? ` · rotated ${v.rotation}°` : ''}</dd>
      <dt>Audio</dt><dd>{v.audio_codec ?? 'none'}</dd>
      {v.bit_rate ? <><dt>Bit rate</dt><dd>{Math.round(v.bit_rate / 1000).toLocaleString()} kbit/s</dd></> : null}
    </>
  );
}
