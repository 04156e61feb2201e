/**
 * The HTTP caching rules every delivery path shares (originals, derivatives, remote sources):
 * conditional requests (RFC 9110 §13) and the Cache-Control of content that never changes.
 */

/** One year, the longest `max-age` worth sending. */
export const YEAR_S = 31_536_000;

/** The Cache-Control of bytes that never change under their URL (public, content-addressed). */
export const IMMUTABLE_CACHE_CONTROL = `public, max-age=${YEAR_S}, immutable`;

/** True when an `If-None-Match` list names this ETag (weak comparison; `*` matches any). */
export function matchesEtag(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim().replace(/^W\//, '');
    return value === etag || value === '*';
  });
}

/** True when `If-None-Match` (or, without it, `If-Modified-Since`) says the client's copy is current. */
export function isNotModified(headers: Headers, etag: string, lastModified: Date | string): boolean {
  const inm = headers.get('if-none-match');
  if (inm !== null) return matchesEtag(inm, etag);
  const ims = headers.get('if-modified-since');
  return ims !== null && unmodifiedSince(ims, lastModified);
}

/** True when content last modified at `lastModified` is no newer than an `If-Modified-Since` date (to the second). */
export function unmodifiedSince(ims: string, lastModified: Date | string): boolean {
  const since = Date.parse(ims);
  const modified = typeof lastModified === 'string' ? Date.parse(lastModified) : lastModified.getTime();
  return !Number.isNaN(since) && !Number.isNaN(modified) && Math.floor(modified / 1000) <= Math.floor(since / 1000);
}
