/**
 * Thumbnails of private images: `/t` does not serve them, so the tiles ask for signed URLs. The
 * tiles that mount in one moment are signed in one `POST /api/files/signed-urls` (≤ 100 ids),
 * and a URL is kept until ten minutes before it expires, so scrolling back costs nothing. The
 * expiry is the start of the hour after next, so the URLs stay the same within an hour and a
 * reload finds the thumbnails in the browser's cache.
 */
import { api } from '../api';

const HOUR_S = 3600;
const RENEW_BEFORE_MS = 10 * 60 * 1000;
const BATCH = 100;

interface Signed {
  url: string;
  expiresAt: number;
}

const signed = new Map<string, Signed>();
let waiting = new Map<string, { resolve: (url: string | null) => void }[]>();
let scheduled = false;

/** The transformation of a tile: the library's default `thumb` options, at the screen's density. */
export const thumbTransformation = (dpr: number) => `w_200,h_200,c_fill,g_auto,f_auto${dpr > 1 ? ',dpr_2' : ''}`;

async function flush(): Promise<void> {
  scheduled = false;
  const batch = waiting;
  waiting = new Map();
  const ids = [...batch.keys()];
  const transformations = thumbTransformation(window.devicePixelRatio);
  for (let i = 0; i < ids.length; i += BATCH) {
    const part = ids.slice(i, i + BATCH);
    let got = new Map<string, string>();
    try {
      const out = await api<{ results: { id: string; url: string; expires_at: string }[] }>(
        'POST', '/api/files/signed-urls', { ids: part, transformations, expires_in: 2 * HOUR_S - (Math.floor(Date.now() / 1000) % HOUR_S) },
      );
      for (const r of out.results) signed.set(r.id, { url: r.url, expiresAt: Date.parse(r.expires_at) });
      got = new Map(out.results.map((r) => [r.id, r.url]));
    } catch {
      // The tile shows the file's kind instead (as when the image fails to load).
    }
    for (const id of part) for (const w of batch.get(id) ?? []) w.resolve(got.get(id) ?? null);
  }
}

/** A signed thumbnail URL of the private file `id`, or null when it cannot be had. */
export function privateThumb(id: string): Promise<string | null> {
  const kept = signed.get(id);
  if (kept && kept.expiresAt - Date.now() > RENEW_BEFORE_MS) return Promise.resolve(kept.url);
  return new Promise((resolve) => {
    const list = waiting.get(id) ?? [];
    list.push({ resolve });
    waiting.set(id, list);
    if (!scheduled) {
      scheduled = true;
      setTimeout(() => void flush(), 0);
    }
  });
}
