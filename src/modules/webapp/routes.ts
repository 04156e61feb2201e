/**
 * The web app (issue #20): the Vite build in `web/dist` served at `/`. Hashed assets under
 * `/assets/` are immutable for a year; the HTML shell is never cached, so a deploy is picked up
 * at once. Deep links (`/files/…`, `/library`, any unmatched GET that asks for HTML) answer the
 * shell and the app routes in the browser; the API, delivery, docs, health and metrics paths
 * keep their own routes and their JSON 404. Nothing is inlined in the HTML, so the CSP can
 * refuse every inline script.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { notFound } from '../../errors';
import { onUnmatchedPage } from '../../http';
import { matchesEtag } from '../../lib/http-cache';
import { loadWebDist, type WebAsset } from './dist';
import { pngIcon, svgIcon, type IconFile } from './icon';

export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that are never the app's, even for a browser asking for HTML. */
const RESERVED = ['/api', '/i', '/d', '/t', '/authenticated', '/docs', '/openapi.json', '/health', '/metrics', '/assets'];
const isReserved = (path: string) => RESERVED.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}.`));

const SHELL_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': APP_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

const NOT_BUILT = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Pictor</title>'
  + '<p>The web app is not built. Run <code>npm install</code> (or <code>npm run build:web</code>) and restart the server.</p></html>';

function respond(asset: WebAsset, request: Request, headers: Record<string, string>): Response {
  const gzip = asset.gzip && /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
  const body = request.method === 'HEAD' ? null : gzip ? asset.gzip! : asset.body;
  return new Response(body as BodyInit | null, {
    headers: {
      ...headers,
      'content-type': asset.type,
      ...(asset.gzip ? { vary: 'Accept-Encoding' } : {}),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      etag: asset.etag,
    },
  });
}

const ICON_HEADERS = { 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' };

function icon(file: IconFile, request: Request): Response {
  if (matchesEtag(request.headers.get('if-none-match'), file.etag)) return new Response(null, { status: 304, headers: { ...ICON_HEADERS, etag: file.etag } });
  return new Response(request.method === 'HEAD' ? null : file.body as BodyInit, { headers: { ...ICON_HEADERS, 'content-type': file.type, etag: file.etag } });
}

export function webappRoutes(deps: AppDeps) {
  let dist = loadWebDist(deps, true);
  // Built after the server started (a developer's `npm run build:web`): look again while missing.
  const current = () => (dist.shell ? dist : (dist = loadWebDist(deps, false)));
  const shell = (request: Request): Response => {
    const d = current();
    if (!d.shell) return new Response(NOT_BUILT, { status: 503, headers: { ...SHELL_HEADERS, 'retry-after': '10' } });
    if (matchesEtag(request.headers.get('if-none-match'), d.shell.etag)) return new Response(null, { status: 304, headers: { ...SHELL_HEADERS, etag: d.shell.etag } });
    return respond(d.shell, request, SHELL_HEADERS);
  };

  onUnmatchedPage(deps, (request, path) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    if (isReserved(path) || !(request.headers.get('accept') ?? '').includes('text/html')) return undefined;
    return shell(request);
  });

  return new Elysia({ name: 'pictor.webapp' })
    // The app keeps its state in the query (`/?folder=/a&view=list`): any parameter is the app's, not the server's.
    .get('/', ({ request }) => shell(request), { query: t.Object({}, { additionalProperties: true }), detail: { hide: true } })
    .get('/favicon.svg', ({ request }) => icon(svgIcon, request), { detail: { hide: true } })
    .get('/favicon.ico', async ({ request }) => icon(await pngIcon(), request), { detail: { hide: true } })
    .get(
      '/assets/*',
      ({ request, params }) => {
        const asset = current().assets.get(params['*']);
        // A hashed name from an older build: the envelope 404 (reloading the page fetches the new shell).
        if (!asset) throw notFound('Asset');
        if (matchesEtag(request.headers.get('if-none-match'), asset.etag)) return new Response(null, { status: 304 });
        return respond(asset, request, { 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' });
      },
      { detail: { hide: true } },
    );
}
