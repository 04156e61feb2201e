import { useEffect, useState } from 'preact/hooks';
import type { FileItem } from '../api';
import { Ctl } from './Builder';
import { CopyField } from './Copy';
import { usePreviewOutcome } from './preview-outcome';
import { RenditionVideo } from './Rendition';
import { localPath } from './Thumb';

const POSTER_MODES = ['limit', 'fit', 'fill', 'lfill', 'pad', 'scale', 'thumb'] as const;
const RENDITION_MODES = ['limit', 'fit', 'fill', 'lfill', 'pad', 'scale'] as const;
const POSTER_FORMATS = ['auto', 'webp', 'avif', 'jpg', 'png'] as const;

export interface VideoOptions {
  mode: 'poster' | 'rendition';
  w: string;
  h: string;
  c: string;
  q: string;
  so: string;
  eo: string;
  mute: boolean;
  fps: string;
  br: string;
  f: string;
  ext: 'mp4' | 'webm';
}

/** The `/t` URL path part (transformations and suffix) for these options, defaults left out. */
export function composeVideo(o: VideoOptions): { tx: string; suffix: string } {
  const parts: string[] = [];
  if (o.w) parts.push(`w_${o.w}`);
  if (o.h) parts.push(`h_${o.h}`);
  if (o.c && o.c !== 'limit' && (o.w || o.h)) parts.push(`c_${o.c}`);
  if (o.q) parts.push(`q_${o.q}`);
  if (o.mode === 'poster') {
    if (o.f) parts.push(`f_${o.f}`);
    if (o.so) parts.push(`so_${o.so}`);
    return { tx: parts.join(',') || 'f_auto', suffix: '' };
  }
  if (o.so) parts.push(`so_${o.so}`);
  if (o.eo) parts.push(`eo_${o.eo}`);
  if (o.mute) parts.push('ac_none');
  if (o.fps) parts.push(`fps_${o.fps}`);
  if (o.br) parts.push(`br_${o.br}`);
  // A rendition needs at least one key: `c_limit` alone keeps the source size.
  return { tx: parts.join(',') || 'c_limit', suffix: `.${o.ext}` };
}

/**
 * The transformation builder for a video: a poster frame (image keys plus `so`, the time) or a
 * transcoded rendition (size, quality, trim, mute, frame-rate and bit-rate caps, MP4 or WebM).
 * The preview asks for the URL itself; a rendition shows "Preparing video…" while its job runs.
 */
export function VideoBuilder({ file }: { file: FileItem }) {
  const [o, setO] = useState<VideoOptions>({ mode: 'poster', w: '', h: '', c: 'limit', q: '', so: '', eo: '', mute: false, fps: '', br: '', f: 'auto', ext: 'mp4' });
  // Updates from the current options, not this render's: two events before a re-render both count.
  const set = (patch: Partial<VideoOptions>) => setO((cur) => ({ ...cur, ...patch }));
  const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  const { tx, suffix } = composeVideo(o);
  const url = file.transform_url.replace('{transformations}', tx) + suffix;
  // What became of the current URL's preview (reports about earlier URLs are dropped: preview-outcome.ts).
  const [shown, report] = usePreviewOutcome(url);
  const modes = o.mode === 'poster' ? POSTER_MODES : RENDITION_MODES;
  // A rendition is a transcode job: ask for it only once the controls rest, not per keystroke.
  const [settled, setSettled] = useState(url);
  useEffect(() => {
    const t = setTimeout(() => setSettled(url), 700);
    return () => clearTimeout(t);
  }, [url]);

  const checkError = async (forUrl: string) => {
    const res = await fetch(localPath(forUrl)).catch(() => null);
    const body = res ? await res.json().catch(() => null) : null;
    report(forUrl, { error: (body as { message?: string } | null)?.message ?? 'The preview could not be loaded.' });
  };

  return (
    <section class="card builder" aria-labelledby="vbuilder-title">
      <h2 id="vbuilder-title">Transformation builder</h2>
      {!file.is_public && <p class="notice">This file is private: the preview URL below works only once the file is public. To share it privately, make a share link or a signed URL.</p>}
      <fieldset class="effects">
        <legend>Make</legend>
        <label class="check"><input type="radio" name="vmode" checked={o.mode === 'poster'} onChange={() => set({ mode: 'poster' })} />a poster frame (image)</label>
        <label class="check"><input type="radio" name="vmode" checked={o.mode === 'rendition'} onChange={() => set({ mode: 'rendition', c: 'limit' })} />a rendition (video)</label>
      </fieldset>
      <div class="controls">
        <Ctl id="vx-w" label="Width"><input id="vx-w" type="number" min={1} max={8192} inputMode="numeric" value={o.w} onInput={(e) => set({ w: val(e) })} /></Ctl>
        <Ctl id="vx-h" label="Height"><input id="vx-h" type="number" min={1} max={8192} inputMode="numeric" value={o.h} onInput={(e) => set({ h: val(e) })} /></Ctl>
        <Ctl id="vx-c" label="Crop mode"><select id="vx-c" value={o.c} onChange={(e) => set({ c: val(e) })}>{modes.map((m) => <option key={m} value={m}>{m}</option>)}</select></Ctl>
        <Ctl id="vx-q" label="Quality"><input id="vx-q" type="number" min={1} max={100} placeholder="auto" value={o.q} onInput={(e) => set({ q: val(e) })} /></Ctl>
        <Ctl id="vx-so" label={o.mode === 'poster' ? 'Frame at (s)' : 'Start at (s)'}><input id="vx-so" type="number" min={0} step="0.1" placeholder={o.mode === 'poster' ? 'default' : '0'} value={o.so} onInput={(e) => set({ so: val(e) })} /></Ctl>
        {o.mode === 'poster' ? (
          <Ctl id="vx-f" label="Format"><select id="vx-f" value={o.f} onChange={(e) => set({ f: val(e) })}>{POSTER_FORMATS.map((m) => <option key={m} value={m}>{m}</option>)}</select></Ctl>
        ) : (
          <>
            <Ctl id="vx-eo" label="End at (s)"><input id="vx-eo" type="number" min={0} step="0.1" placeholder="end" value={o.eo} onInput={(e) => set({ eo: val(e) })} /></Ctl>
            <Ctl id="vx-fps" label="Frame rate cap"><input id="vx-fps" type="number" min={1} max={120} placeholder="source" value={o.fps} onInput={(e) => set({ fps: val(e) })} /></Ctl>
            <Ctl id="vx-br" label="Bit-rate cap"><input id="vx-br" placeholder="e.g. 800k, 2m" value={o.br} onInput={(e) => set({ br: val(e).trim() })} /></Ctl>
            <Ctl id="vx-ext" label="Output"><select id="vx-ext" value={o.ext} onChange={(e) => set({ ext: val(e) as 'mp4' | 'webm' })}><option value="mp4">MP4 (H.264/AAC)</option><option value="webm">WebM (VP9/Opus)</option></select></Ctl>
            <label class="check"><input type="checkbox" checked={o.mute} onChange={(e) => set({ mute: (e.currentTarget as HTMLInputElement).checked })} />no audio</label>
          </>
        )}
      </div>
      <CopyField id="vx-url" label="Transformation URL" value={url} />
      {file.is_public && (
        <figure class="tx-preview">
          {o.mode === 'poster' ? (
            <img
              key={url}
              src={localPath(url)}
              alt={`Preview of ${file.name} with ${tx}`}
              onLoad={(e) => report(url, { size: `${(e.currentTarget as HTMLImageElement).naturalWidth} × ${(e.currentTarget as HTMLImageElement).naturalHeight} px` })}
              onError={() => void checkError(url)}
            />
          ) : settled !== url ? null : (
            <RenditionVideo key={settled} src={localPath(settled)} label={`Preview of ${file.name} with ${tx}`} onMeta={(v) => report(settled, { size: `${v.videoWidth} × ${v.videoHeight} px, ${v.duration.toFixed(1)} s` })} />
          )}
          <figcaption><span role="status">{shown?.error ? <span class="error">{shown.error}</span> : shown ? `Preview: ${shown.size}` : o.mode === 'poster' ? 'Loading preview…' : ''}</span></figcaption>
        </figure>
      )}
    </section>
  );
}
