import { useEffect, useState } from 'preact/hooks';
import type { FileItem } from '../api';
import { blurhashDataUrl } from './placeholder';
import { privateThumb, thumbTransformation } from './private-thumbs';

/** Same-origin path of an absolute URL the API returned (PUBLIC_URL may name another host). */
export const localPath = (url: string): string => {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
};

/** What `/t` renders (the server's files/derivable.ts): a BMP asked for a thumbnail got a 400, a broken image. */
const RASTER_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/heif', 'image/heic', 'image/tiff']);
export const isRaster = (f: FileItem) => RASTER_TYPES.has(f.content_type);

const KINDS: Record<string, string> = {
  'application/pdf': 'PDF', 'application/zip': 'ZIP', 'application/json': 'JSON', 'text/csv': 'CSV', 'text/markdown': 'Markdown',
};

/** A file's kind in a word: `text/plain` is "Text", not "PLAIN". */
export const kindOf = (f: FileItem): string => {
  const [top, sub = ''] = f.content_type.split('/');
  if (top === 'image') return 'Image';
  if (top === 'video') return 'Video';
  if (top === 'audio') return 'Audio';
  return KINDS[f.content_type] ?? (top === 'text' ? 'Text' : /^[a-z0-9]{2,5}$/.test(sub) ? sub.toUpperCase() : 'File');
};

/**
 * A tile's picture: Pictor's own `/t` URL with `f_auto` (AVIF/WebP by the browser's Accept) and a
 * 2x `srcset`. Until it loads, the file's blurhash (from the file object, decoded to a small data
 * URL) shows under it, or its dominant colour while the hash is not computed yet.
 * Private files are not served by unsigned `/t` URLs: their tiles use signed ones (private-thumbs.ts).
 */
export function Thumb({ file, size }: { file: FileItem; size: number }) {
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  const [signedSrc, setSignedSrc] = useState<string | null>(null);
  // A video's tile is its poster frame (`/t` on a video id renders one).
  const pictured = isRaster(file) || file.content_type.startsWith('video/');
  useEffect(() => {
    if (!pictured || file.is_public) return;
    let live = true;
    void privateThumb(file.id).then((url) => {
      if (!live) return;
      if (url) setSignedSrc(localPath(url));
      else setFailed(true);
    });
    return () => {
      live = false;
    };
  }, [file.id, file.is_public, pictured]);
  const canShow = pictured && !failed;
  // The default `thumb` preset's options (w_200,h_200,c_fill,g_auto,f_auto): the queue renders that
  // derivative soon after upload (its derive job), so a library opens on cache hits, whatever the tile size.
  const t = (dpr: number) => `/t/${thumbTransformation(dpr)}/${file.id}`;
  const placeholder = canShow && !loaded ? blurhashDataUrl(file.blurhash) : null;
  // Set through the style object (CSSOM), which the CSP's `style-src 'self'` allows.
  const background = canShow && !loaded && !placeholder && file.dominant_color ? { backgroundColor: file.dominant_color } : undefined;
  const img = (src: string, srcSet?: string) => (
    <img
      src={src}
      srcSet={srcSet}
      alt=""
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
      onLoad={() => setLoaded(true)}
      onError={() => setFailed(true)}
    />
  );
  return (
    <div class={`thumb${loaded ? ' loaded' : ''}`} style={background} aria-hidden="true">
      {placeholder && <img class="placeholder" src={placeholder} alt="" width={size} height={size} />}
      {canShow && file.is_public && img(t(1), `${t(1)} 1x, ${t(2)} 2x`)}
      {canShow && !file.is_public && signedSrc && img(signedSrc)}
      {!canShow && <span class="kind">{file.is_public ? kindOf(file) : `${kindOf(file)} · private`}</span>}
      {canShow && !file.is_public && <span class="badge-private">Private</span>}
      {canShow && file.content_type.startsWith('video/') && <span class="badge-play" title="Video">▶</span>}
    </div>
  );
}
