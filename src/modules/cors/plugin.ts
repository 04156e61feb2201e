/**
 * CORS (issue #26 point 10), before routing:
 *
 * - Public delivery (`/i`, `/d`, `/t`, `/authenticated`) carries
 *   `Access-Control-Allow-Origin: CORS_DELIVERY_ORIGIN` (`*` by default, as Cloudinary and
 *   imgproxy deployments do), so images can be drawn to a canvas and read with `fetch` from any
 *   page. No credentials and no `Vary`: the header is the same for every caller, so one cached
 *   copy serves all. Preflights there get GET/HEAD and the range/conditional headers. The delivery
 *   fast path (transform/fast.ts) adds the same header to its precomputed header sets.
 * - `/api` answers CORS only for origins in `CORS_API_ORIGINS` (none by default): a preflight
 *   from a listed origin gets 204 with the methods and headers the API takes; every `/api`
 *   response to a listed origin echoes it with credentials allowed (cookie sessions). Another
 *   origin's preflight gets 403 and no CORS header, so the browser blocks the call. `Vary: Origin`
 *   on `/api` whenever a list is configured, since the answer then depends on the caller.
 * - `/api/uploads/:token` keeps its own `*` CORS (the token is the credential, uploads-routes.ts).
 * - Presigned resumable uploads get `*` too, without credentials: `<presigned url>/tus` (the
 *   token is the credential) and the upload URLs under `/api/uploads/tus/` (the random upload
 *   URL of a presigned upload is its credential; any other upload there needs the account,
 *   which a `*` answer never carries, so a listed origin still gets its credentialed answer).
 *   Their preflight was a 405 and their answers had no CORS header, so no page could use them.
 */
import { Elysia } from 'elysia';
import type { Config } from '../../config';
import type { AppDeps } from '../../deps';
import { errorResponse, forbidden } from '../../errors';
import { requestIdOf } from '../../http';
import { isPublicDelivery } from '../limits/plugin';

const PREFLIGHT_MAX_AGE_S = '600';
const API_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
// tus (modules/tus): its request headers, and the answers' offset, location and expiry.
const API_HEADERS = 'authorization, content-type, x-api-key, x-csrf-token, x-request-id, x-file-name, tus-resumable, upload-length, upload-defer-length, upload-offset, upload-metadata, upload-checksum, range, if-range, if-none-match, if-modified-since, last-event-id';
/** Response headers a page may read besides the CORS-safelisted ones. */
const API_EXPOSED = 'x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, location, content-disposition, content-range, accept-ranges, etag, tus-resumable, tus-version, tus-extension, tus-max-size, upload-offset, upload-length, upload-expires, upload-metadata, x-file-id';
const DELIVERY_EXPOSED = 'x-request-id, x-cache, etag, content-disposition, content-range, accept-ranges';

/** The headers every public-delivery response carries (empty when `CORS_DELIVERY_ORIGIN=none`). */
export function deliveryCorsHeaders(config: Pick<Config, 'corsDeliveryOrigin'>): Record<string, string> {
  const origin = config.corsDeliveryOrigin;
  return origin === null ? {} : { 'access-control-allow-origin': origin, 'access-control-expose-headers': DELIVERY_EXPOSED };
}

const isApi = (path: string) => path === '/api' || path.startsWith('/api/');
/** Presigned upload URLs (`/api/uploads/<token>`) answer their own CORS (`*`, no credentials, uploads-routes.ts). */
const isPresignedUpload = (path: string) => /^\/api\/uploads\/[A-Za-z0-9]+$/.test(path) && path !== '/api/uploads/presign' && path !== '/api/uploads/tus';
/** tus requests any page may send without credentials: creation through a presigned URL, and upload URLs. */
const isOpenTus = (path: string) => /^\/api\/uploads\/([A-Za-z0-9]+\/tus|tus\/[^/]+)$/.test(path) && !path.startsWith('/api/uploads/presign/');
const TUS_ANY = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': API_EXPOSED,
};
const TUS_ANY_PREFLIGHT = {
  ...TUS_ANY,
  'access-control-allow-methods': 'POST, HEAD, PATCH, DELETE',
  'access-control-allow-headers': 'content-type, tus-resumable, upload-length, upload-defer-length, upload-offset, upload-metadata, upload-checksum, x-request-id',
  'access-control-max-age': PREFLIGHT_MAX_AGE_S,
};

export function corsPlugin(deps: AppDeps) {
  const delivery = deliveryCorsHeaders(deps.config);
  const hasDelivery = Object.keys(delivery).length > 0;
  const deliveryPreflight = {
    ...delivery,
    'access-control-allow-methods': 'GET, HEAD',
    'access-control-allow-headers': 'range, if-none-match, if-modified-since, if-range',
    'access-control-max-age': PREFLIGHT_MAX_AGE_S,
  };
  const apiOrigins = new Set(deps.config.corsApiOrigins);

  return new Elysia({ name: 'pictor.cors' }).onRequest((ctx) => {
    // The pre-routing context's type omits `path`, but Elysia sets it before any onRequest hook.
    const { request, path, set } = ctx as typeof ctx & { path: string };
    const preflight = request.method === 'OPTIONS' && request.headers.has('access-control-request-method');
    if (isPublicDelivery(path)) {
      if (!hasDelivery) return;
      if (preflight) return new Response(null, { status: 204, headers: deliveryPreflight });
      Object.assign(set.headers, delivery);
      return;
    }
    if (!isApi(path)) return;
    // Only upload paths need the two patterns below: every other API request skips them.
    const upload = path.startsWith('/api/uploads/');
    if (upload && isPresignedUpload(path)) return;
    const origin = request.headers.get('origin');
    const allowed = origin !== null && apiOrigins.has(origin.toLowerCase());
    if (upload && isOpenTus(path) && !allowed) {
      if (preflight) return new Response(null, { status: 204, headers: { ...TUS_ANY_PREFLIGHT, 'x-request-id': requestIdOf(request) } });
      Object.assign(set.headers, TUS_ANY);
      if (apiOrigins.size > 0) set.headers.vary = 'Origin';
      return;
    }
    // Another origin's preflight is a 403 saying why, with no list configured too (it fell through to a 405).
    if (preflight && !allowed) {
      const refused = forbidden('This origin may not call the API (CORS_API_ORIGINS).');
      return errorResponse(refused, { ...(apiOrigins.size > 0 ? { vary: 'Origin' } : {}), 'x-request-id': requestIdOf(request) });
    }
    if (apiOrigins.size === 0) return;
    set.headers.vary = 'Origin';
    if (preflight && origin !== null) { // allowed (refused above otherwise), so an origin was sent
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': API_METHODS,
          'access-control-allow-headers': API_HEADERS,
          'access-control-max-age': PREFLIGHT_MAX_AGE_S,
          vary: 'Origin',
          'x-request-id': requestIdOf(request),
        },
      });
    }
    if (allowed) {
      set.headers['access-control-allow-origin'] = origin;
      set.headers['access-control-allow-credentials'] = 'true';
      set.headers['access-control-expose-headers'] = API_EXPOSED;
    }
  });
}
