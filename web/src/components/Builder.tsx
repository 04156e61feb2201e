import { useEffect, useMemo, useState } from 'preact/hooks';
import type { FileItem, ServerInfo } from '../api';
import { CopyField } from './Copy';
import { localPath } from './Thumb';
import { usePreviewOutcome } from './preview-outcome';

const MODES = ['limit', 'fit', 'fill', 'lfill', 'pad', 'scale', 'thumb'] as const;
const GRAVITY = ['center', 'auto', 'north', 'south', 'east', 'west', 'north_east', 'north_west', 'south_east', 'south_west', 'entropy'] as const;
const FORMATS = ['auto', 'webp', 'avif', 'jpg', 'png', 'gif'] as const;
/** Modes that place the image by gravity; the server refuses `g_` with the others (it would change nothing). */
const PLACED = new Set<string>(['fill', 'lfill', 'pad', 'thumb']);
const EFFECTS = ['grayscale', 'sepia', 'negate', 'sharpen', 'blur:200', 'pixelate:10'] as const;

/** A control with its own label (a wrapping label would make the option texts part of its name). */
export function Ctl({ id, label, children }: { id: string; label: string; children: preact.ComponentChildren }) {
  return (
    <div class="ctl">
      <label for={id}>{label}</label>
      {children}
    </div>
  );
}

export interface Options {
  preset: string;
  w: string;
  h: string;
  c: string;
  g: string;
  f: string;
  q: string;
  effects: string[];
}

/** The `/t` segment for these options, keys in a stable order, defaults left out. */
export function compose(o: Options): string {
  const parts: string[] = [];
  if (o.preset) parts.push(`t_${o.preset}`);
  if (o.w) parts.push(`w_${o.w}`);
  if (o.h) parts.push(`h_${o.h}`);
  if (o.c && (o.w || o.h)) parts.push(`c_${o.c}`);
  if (o.g && o.g !== 'center' && gravityApplies(o)) parts.push(`g_${o.g}`);
  if (o.f) parts.push(`f_${o.f}`);
  if (o.q && o.f !== 'gif') parts.push(`q_${o.q}`);
  if (o.effects.length) parts.push(`e_${o.effects.join('.')}`);
  return parts.join(',') || 'f_auto';
}

const gravityApplies = (o: Options) => PLACED.has(o.c) && !!(o.w || o.h);

/**
 * Composes a transformation from controls, previews it live (the browser fetches the `/t` URL;
 * a refusal shows the server's reason) and offers the URL to copy.
 */
export function Builder({ file, info, onChange }: { file: FileItem; info: ServerInfo; onChange: (t: string) => void }) {
  const [o, setO] = useState<Options>({ preset: '', w: '', h: '', c: 'limit', g: 'center', f: 'auto', q: '', effects: [] });
  const tx = useMemo(() => compose(o), [o]);
  // The caption shows only the current transformation's preview (a control change that leaves the URL as it was keeps it).
  const [shown, report] = usePreviewOutcome(tx);
  useEffect(() => onChange(tx), [tx]);
  // Updates from the current options, not this render's: two events before a re-render both count.
  const set = (patch: Partial<Options> | ((cur: Options) => Partial<Options>)) =>
    setO((cur) => ({ ...cur, ...(typeof patch === 'function' ? patch(cur) : patch) }));
  const val = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  const url = file.transform_url.replace('{transformations}', tx);
  const presets = info.transformations?.presets ?? [];

  const checkError = async (forTx: string, forUrl: string) => {
    const res = await fetch(localPath(forUrl)).catch(() => null);
    const body = res ? await res.json().catch(() => null) : null;
    report(forTx, { error: (body as { message?: string } | null)?.message ?? 'The preview could not be loaded.' });
  };

  return (
    <section class="card builder" aria-labelledby="builder-title">
      <h2 id="builder-title">Transformation builder</h2>
      {!file.is_public && <p class="warning">This file is private: the preview URL below works only once the file is public. To share it privately, make a share link or a signed URL.</p>}
      <div class="controls">
        <Ctl id="tx-preset" label="Preset">
          <select id="tx-preset" value={o.preset} onChange={(e) => set({ preset: val(e) })}>
            <option value="">None</option>
            {presets.map((p) => <option key={p.name} value={p.name}>{p.name} ({p.transformation})</option>)}
          </select>
        </Ctl>
        <Ctl id="tx-w" label="Width"><input id="tx-w" type="number" min={1} max={8192} inputMode="numeric" value={o.w} onInput={(e) => set({ w: val(e) })} /></Ctl>
        <Ctl id="tx-h" label="Height"><input id="tx-h" type="number" min={1} max={8192} inputMode="numeric" value={o.h} onInput={(e) => set({ h: val(e) })} /></Ctl>
        <Ctl id="tx-c" label="Crop mode"><select id="tx-c" value={o.c} onChange={(e) => set({ c: val(e) })}>{MODES.map((m) => <option key={m} value={m}>{m}</option>)}</select></Ctl>
        <Ctl id="tx-g" label="Gravity"><select id="tx-g" value={o.g} disabled={!gravityApplies(o)} aria-describedby={gravityApplies(o) ? undefined : 'tx-g-note'} onChange={(e) => set({ g: val(e) })}>{GRAVITY.map((m) => <option key={m} value={m}>{m}</option>)}</select></Ctl>
        <Ctl id="tx-f" label="Format"><select id="tx-f" value={o.f} onChange={(e) => set({ f: val(e) })}>{FORMATS.map((m) => <option key={m} value={m}>{m}</option>)}</select></Ctl>
        <Ctl id="tx-q" label="Quality"><input id="tx-q" type="number" min={1} max={100} placeholder={o.f === 'gif' ? 'n/a for GIF' : 'auto'} disabled={o.f === 'gif'} value={o.q} onInput={(e) => set({ q: val(e) })} /></Ctl>
      </div>
      {o.preset && (o.w || o.h || o.q || o.effects.length > 0 || (o.f !== '' && o.f !== 'auto')) && (
        <p class="help" role="status">The fields set here are written after <code>t_{o.preset}</code> and override its own values: the result is <code>{tx}</code>, not the preset alone.</p>
      )}
      {/* On the page, not in a hover title: a touch screen never shows one. */}
      {!gravityApplies(o) && <p id="tx-g-note" class="help">Gravity applies with crop mode fill, lfill, pad or thumb and a width or height.</p>}
      <fieldset class="effects">
        <legend>Effects</legend>
        {EFFECTS.map((fx) => (
          <label key={fx} class="check">
            <input type="checkbox" checked={o.effects.includes(fx)} onChange={(e) => { const on = (e.currentTarget as HTMLInputElement).checked; set((cur) => ({ effects: on ? [...cur.effects, fx] : cur.effects.filter((x) => x !== fx) })); }} />
            {fx.split(':')[0]}
          </label>
        ))}
      </fieldset>
      <CopyField id="tx-url" label="Transformation URL" value={url} />
      {file.is_public && (
        <figure class="tx-preview">
          <img
            key={tx}
            src={localPath(url)}
            alt={`Preview of ${file.name} with ${tx}`}
            onLoad={(e) => {
              const img = e.currentTarget as HTMLImageElement;
              img.hidden = false; // the same transformation's URL may have failed before (another file link base)
              report(tx, { size: `${img.naturalWidth} × ${img.naturalHeight} px` });
            }}
            onError={(e) => {
              (e.currentTarget as HTMLImageElement).hidden = true; // a broken-image icon above the error said nothing more
              void checkError(tx, url);
            }}
          />
          <figcaption><span role="status">{shown?.error ? <span class="error">{shown.error}</span> : shown ? `Preview: ${shown.size}` : 'Loading preview…'}</span></figcaption>
        </figure>
      )}
    </section>
  );
}
