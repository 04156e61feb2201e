import { useEffect, useState } from 'preact/hooks';

/** Where a video rendition URL stands: still being made (202), playable, or refused/failed. */
export type RenditionState =
  | { status: 'preparing'; seconds: number }
  | { status: 'ready' }
  | { status: 'failed'; message: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Asks for a `/t/…/<id>.mp4|.webm` rendition until it exists. A GET starts its queue job and
 * answers 202 with `Retry-After` while the job runs; once made it answers 206 to the one-byte
 * Range asked here, so polling never downloads the video. The <video> element then streams it
 * with its own Range requests (seeking works).
 */
export function useRendition(url: string | null): RenditionState {
  const [state, setState] = useState<RenditionState>({ status: 'preparing', seconds: 0 });
  useEffect(() => {
    if (!url) return;
    let stopped = false;
    const started = Date.now();
    setState({ status: 'preparing', seconds: 0 });
    const tick = setInterval(() => {
      if (!stopped) setState((s) => (s.status === 'preparing' ? { status: 'preparing', seconds: Math.round((Date.now() - started) / 1000) } : s));
    }, 1000);
    (async () => {
      while (!stopped) {
        const res = await fetch(url, { headers: { range: 'bytes=0-0' }, credentials: 'same-origin' }).catch(() => null);
        if (stopped) return;
        if (res && (res.status === 200 || res.status === 206)) {
          await res.body?.cancel().catch(() => undefined);
          setState({ status: 'ready' });
          return;
        }
        if (!res || res.status !== 202) {
          const body = res ? ((await res.json().catch(() => null)) as { message?: string } | null) : null;
          setState({ status: 'failed', message: body?.message ?? 'The video could not be prepared.' });
          return;
        }
        await res.body?.cancel().catch(() => undefined);
        // Honour the server's Retry-After (whole seconds), within sane bounds.
        const wait = Number(res.headers.get('retry-after'));
        await sleep(Math.min(30, Math.max(1, Number.isFinite(wait) ? wait : 2)) * 1000);
      }
    })();
    return () => {
      stopped = true;
      clearInterval(tick);
    };
  }, [url]);
  return url ? state : { status: 'failed', message: 'No rendition requested.' };
}

/** A <video> of a rendition: "Preparing video… (n s)" over its poster frame while its job runs, then the player. */
export function RenditionVideo({ src, poster, label, onMeta }: { src: string; poster?: string; label: string; onMeta?: (v: HTMLVideoElement) => void }) {
  const state = useRendition(src);
  if (state.status === 'preparing') {
    const text = <p class="preparing" role="status">Preparing video… ({state.seconds} s)</p>;
    return poster ? <div class="preparing-frame"><img src={poster} alt="" />{text}</div> : text;
  }
  if (state.status === 'failed') return <p class="error" role="alert">{state.message}</p>;
  return (
    <video
      key={src}
      src={src}
      poster={poster}
      controls
      preload="metadata"
      aria-label={label}
      onLoadedMetadata={(e) => onMeta?.(e.currentTarget as HTMLVideoElement)}
    />
  );
}
