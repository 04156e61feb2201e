/**
 * Response headers of a derivative, shared by the routed handler (routes.ts) and the delivery
 * fast path (fast.ts) so both answer byte-for-byte the same headers.
 */
import { IMMUTABLE_CACHE_CONTROL, YEAR_S } from '../../lib/http-cache';
import type { CachedDerivative } from '../cache/types';
import { ACCEPT_CH } from './hints';
import type { ResolvedRequest } from './service';

/** One year (lib/http-cache.ts): `max-age` of immutable public derivatives, and the largest signed-URL lifetime. */
export { IMMUTABLE_CACHE_CONTROL, matchesEtag, YEAR_S } from '../../lib/http-cache';
/** Lifetime of a signed URL without `expires_in`, and `max-age` of a private one without `exp`. */
export const DEFAULT_SIGNED_TTL_S = 3600;

export type XCache = 'HIT-MEMORY' | 'HIT-DISK' | 'MISS';

/** Cache life of a `d_` default image standing in for a missing file (the file may appear, or become public). */
export const FALLBACK_MAX_AGE_S = 300;

/**
 * Cache-Control: immutable for public files; private and bounded by `exp` for signed URLs (a
 * capability that may be withdrawn, as signed originals are, whether the file is public or not).
 */
export function cacheControl(r: ResolvedRequest, nowMs: number): string {
  if (r.fallback) return `public, max-age=${FALLBACK_MAX_AGE_S}`;
  const until = Math.min(
    r.parsed.exp !== undefined ? r.parsed.exp * 1000 : Infinity,
    r.file.expiresAt ?? Infinity,
  );
  const maxAge = Number.isFinite(until) ? Math.max(0, Math.floor((until - nowMs) / 1000)) : YEAR_S;
  if (!r.file.isPublic || r.signed) return `private, max-age=${Number.isFinite(until) ? maxAge : DEFAULT_SIGNED_TTL_S}`;
  return Number.isFinite(until) ? `public, max-age=${maxAge}` : IMMUTABLE_CACHE_CONTROL;
}

/** Headers of a 200 carrying `entry` (a fresh object: callers may add to it). */
export function derivativeHeaders(r: ResolvedRequest, entry: CachedDerivative, xCache: XCache, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': entry.contentType,
    'content-length': String(entry.body.byteLength),
    etag: entry.etag,
    'last-modified': entry.lastModified,
    'cache-control': cacheControl(r, nowMs),
    'x-content-type-options': 'nosniff',
    'x-cache': xCache,
  };
  varyHeaders(r, headers);
  return headers;
}

/** Headers of the 304 answering a matching `If-None-Match`. */
export function notModifiedHeaders(r: ResolvedRequest, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = { etag: `"${r.key.variant}"`, 'cache-control': cacheControl(r, nowMs) };
  varyHeaders(r, headers);
  return headers;
}

/** `Vary`: `Accept` for a negotiated format, the Client Hint headers `w_auto`/`dpr_auto` read (with `Accept-CH` asking for them). */
export function varyHeaders(r: Pick<ResolvedRequest, 'negotiated' | 'hints'>, headers: Record<string, string>): void {
  const vary = [...(r.negotiated ? ['Accept'] : []), ...(r.hints ?? [])];
  if (vary.length) headers.vary = vary.join(', ');
  if (r.hints?.length) headers['accept-ch'] = ACCEPT_CH;
}
