import { decode, isBlurhashValid } from 'blurhash';

/** Decoded placeholders by hash: a grid re-renders tiles often, decoding once is enough. */
const cache = new Map<string, string | null>();
const SIZE = 32;

/**
 * A file's BlurHash as a small PNG data URL (32×32 is plenty once the browser scales it with
 * smoothing), or null for a missing or malformed hash. The CSP allows `img-src data:`.
 */
export function blurhashDataUrl(hash: string | null): string | null {
  if (!hash) return null;
  const known = cache.get(hash);
  if (known !== undefined) return known;
  let url: string | null = null;
  if (isBlurhashValid(hash).result) {
    const canvas = document.createElement('canvas');
    canvas.width = SIZE;
    canvas.height = SIZE;
    const ctx = canvas.getContext('2d');
    if (ctx) {
      const image = ctx.createImageData(SIZE, SIZE);
      image.data.set(decode(hash, SIZE, SIZE));
      ctx.putImageData(image, 0, 0);
      url = canvas.toDataURL('image/png');
    }
  }
  if (cache.size > 2000) cache.clear();
  cache.set(hash, url);
  return url;
}
