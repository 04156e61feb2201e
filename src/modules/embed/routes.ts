/**
 * Embed pages and oEmbed (issue #25). `GET /v/:id` is a server-rendered page for a public file
 * that chat apps unfurl (OpenGraph, Twitter card) and that oEmbed consumers discover;
 * `GET /api/oembed?url=…` answers the oEmbed 1.0 JSON for such a page (or an `/i` URL). Both
 * are public, count against the `public` IP bucket like `/i`, and answer 404 for private files,
 * banned owners and accounts that turned `embeds_enabled` off.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound, validationError } from '../../errors';
import { binaryResponse, errorResponsesOrPage } from '../../openapi-contract';
import { enforceIpLimit } from '../limits/plugin';
import { errorPage, escapeHtml, isPageRefusal } from '../../lib/form-page';
import { embedCsp, isRaster, PREVIEW_WIDTH, renderEmbedPage } from './page';
import { fitWidth, getEmbedFile, urlsOf, withTextPreview } from './service';

const OEmbedQuery = t.Object({
  url: t.String({ minLength: 1, maxLength: 2048, description: 'The page to embed: a `/v/:id` URL (an `/i/:id` URL works too).' }),
  format: t.Optional(t.String({ maxLength: 16, description: 'Only `json` (the default); any other → 400 (the oEmbed spec says 501; a client asking for what we do not serve is a client error, and no input earns a 5xx here).' })),
  maxwidth: t.Optional(t.Integer({ minimum: 1, maximum: 10000, description: 'The largest width the consumer can show; the photo is scaled to fit.' })),
  maxheight: t.Optional(t.Integer({ minimum: 1, maximum: 10000, description: 'The largest height the consumer can show.' })),
});

const OEmbedSchema = t.Object({
  version: t.Literal('1.0'),
  type: t.Union([t.Literal('photo'), t.Literal('video'), t.Literal('link')], { description: '`photo` for images, `video` for videos, `link` for other files.' }),
  title: t.String(),
  provider_name: t.String(),
  provider_url: t.String(),
  url: t.Optional(t.String({ description: 'photo: the image, scaled to `maxwidth`/`maxheight`.' })),
  html: t.Optional(t.String({ description: 'video: a `<video>` element to insert.' })),
  width: t.Optional(t.Integer()),
  height: t.Optional(t.Integer()),
  thumbnail_url: t.Optional(t.String()),
  thumbnail_width: t.Optional(t.Integer()),
  thumbnail_height: t.Optional(t.Integer()),
  cache_age: t.Optional(t.Integer()),
}, { title: 'OEmbed' });

/** The host and file id of an embeddable URL (`…/v/<id>`, `…/i/<id>.<ext>`); its host is checked once the file's base is known. */
function parseEmbedUrl(raw: string): { url: URL; id: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw validationError('url must be an absolute URL of an embed page (`…/v/<id>`).', [{ path: '/url', message: 'not a URL' }]);
  }
  const m = /\/(?:v|i)\/([A-Za-z0-9]{6,64})(?:\.[A-Za-z0-9]{1,8})?\/?$/.exec(url.pathname);
  if (!m) throw notFound('File');
  return { url, id: m[1]! };
}

/**
 * Whether `target` is one of the URLs this server gives out for the file (oEmbed 1.0: 404 for
 * a URL the provider does not serve): its embed page or its original (with its own extension or
 * none), under the account's URL base, PUBLIC_URL or the host asked, without credentials. Only
 * the ending was matched: `/anything/v/<id>`, `user:pass@…` and `/i/<id>.exe` were answered.
 */
function givenOut(target: URL, f: { id: string; base: string; ext: string }, publicUrl: string, host: string | null): boolean {
  if (target.username || target.password) return false;
  // Origins compare as URLs do (scheme and host in lower case); paths exactly (ids are case-sensitive).
  const plain = (u: URL) => `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  const bases = [f.base, publicUrl, ...(host ? [`${target.protocol}//${host}`] : [])].flatMap((b) => {
    try {
      return [plain(new URL(b))];
    } catch {
      return [];
    }
  });
  const paths = [`/v/${f.id}`, `/i/${f.id}`, ...(f.ext ? [`/i/${f.id}.${f.ext}`] : [])];
  const asked = plain(target);
  return bases.some((b) => paths.some((p) => asked === `${b}${p}`));
}

const hostOf = (url: string): string | null => {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
};

export function embedRoutes(deps: AppDeps) {
  return new Elysia({ name: 'pictor.embed.routes', detail: { tags: ['sharing'] } })
    .get('/v/:id', async ({ params, request, set }) => {
      let f: Awaited<ReturnType<typeof getEmbedFile>>;
      try {
        await enforceIpLimit(deps, request, set, 'public');
        f = await withTextPreview(deps, await getEmbedFile(deps, params.id));
      } catch (err) {
        // The page is for people: a deleted, private or expired file's link reads as a page in a browser.
        if (!isPageRefusal(err, request)) throw err;
        const title = err.status === 429 ? 'Too many requests' : err.status === 410 ? 'No longer available' : 'File not found';
        return errorPage(title, err, set.headers as Record<string, string>);
      }
      return new Response(renderEmbedPage(f), {
        headers: {
          ...(set.headers as Record<string, string>),
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': embedCsp(f),
          // Revalidated on every view: making a file private or turning embeds off takes effect at once.
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'strict-origin-when-cross-origin',
        },
      });
    }, {
      params: t.Object({ id: t.String({ maxLength: 80 }) }),
      response: { 200: binaryResponse('The embed page (HTML).', ['text/html']), ...errorResponsesOrPage(404, 410, 429) },
      detail: {
        summary: 'Embed page of a public file',
        description: 'An HTML page for sharing: the image (responsive `srcset` from `/t`), the video, or a card for other files, with a download button. '
          + 'Its head has OpenGraph (`og:title`, `og:image` = a 1200-wide JPEG preview from `/t` with `og:image:width`/`height`, `og:video` for videos), '
          + 'Twitter card tags and an oEmbed discovery link. Private files, banned owners and accounts with `embeds_enabled: false` → 404; expired → 410. No script; strict CSP.',
      },
    })
    .get('/api/oembed', async ({ query, request, set }) => {
      await enforceIpLimit(deps, request, set, 'public');
      if (query.format !== undefined && query.format !== 'json') throw validationError('Only format=json is available.', [{ path: '/format', message: 'must be json' }]);
      const target = parseEmbedUrl(query.url);
      const f = await getEmbedFile(deps, target.id);
      // Any host was taken, so a page on another site could pass for this one (see givenOut).
      if (!givenOut(target.url, f, deps.config.publicUrl, request.headers.get('host')?.toLowerCase() ?? null)) throw notFound('File');
      const u = urlsOf(f);
      const maxW = query.maxwidth ?? PREVIEW_WIDTH;
      const maxH = query.maxheight ?? Infinity;
      const common = { version: '1.0' as const, title: f.name, provider_name: 'Pictor', provider_url: f.base, cache_age: 3600 };
      const thumb = fitWidth(f, Math.min(maxW, 640), maxH);
      const thumbnail = (isRaster(f) || f.kind === 'video') && thumb
        ? { thumbnail_url: u.preview(thumb.width), thumbnail_width: thumb.width, thumbnail_height: thumb.height } : {};
      const size = fitWidth(f, maxW, maxH);
      if (f.kind === 'image' && size) {
        return { ...common, type: 'photo' as const, url: isRaster(f) ? u.preview(size.width) : u.original, width: size.width, height: size.height, ...thumbnail };
      }
      if (f.kind === 'video' && size) {
        const html = `<video controls preload="metadata" width="${size.width}" height="${size.height}" poster="${escapeHtml(u.preview(PREVIEW_WIDTH))}" src="${escapeHtml(u.original)}"></video>`;
        return { ...common, type: 'video' as const, html, width: size.width, height: size.height, ...thumbnail };
      }
      return { ...common, type: 'link' as const, url: u.view };
    }, {
      query: OEmbedQuery,
      response: { 200: OEmbedSchema, ...errorResponses(400, 404, 410, 429) },
      detail: {
        summary: 'oEmbed for an embed page',
        description: 'oEmbed 1.0 (https://oembed.com) JSON for a `/v/:id` URL, as discovered from the page\'s `<link rel="alternate" type="application/json+oembed">`: '
          + '`photo` for images (a JPEG from `/t`, scaled to `maxwidth`/`maxheight`), `video` with an HTML `<video>` element, `link` for other files. Same visibility rules as `/v`. '
          + '`url` must be on a host this server gives out (the account\'s `public_url_base`, `PUBLIC_URL`, or the host asked); any other → 404.',
      },
    });
}
