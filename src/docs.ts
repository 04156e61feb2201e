/**
 * OpenAPI: `/openapi.json` generated from the route schemas, and `/docs`, the Scalar UI.
 * The UI bundle is served from our own node_modules rather than a CDN, so the docs work on
 * air-gapped installs and leak no visitor to a third party.
 */
import { openapi } from '@elysiajs/openapi';
import { ScalarRender } from '@elysiajs/openapi/scalar';
import { Elysia } from 'elysia';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from './deps';
import { ErrorSchema } from './errors';
import { grammarMarkdown } from './modules/transform/grammar';
import { CSRF_COOKIE, readCookie } from './modules/auth/cookies';
import { normalizeSpec } from './openapi-contract';

// The package's `exports` map hides its browser bundle from require.resolve, so point at the file.
const SCALAR_BUNDLE_FILE = fileURLToPath(new URL('../node_modules/@scalar/api-reference/dist/browser/standalone.js', import.meta.url));
const SCALAR_BUNDLE_PATH = '/docs/assets/scalar.js';

export const TAGS = [
  { name: 'auth', description: 'Registration, sessions, refresh tokens and API keys (API.md §2).' },
  { name: 'account', description: 'Profile, settings, usage, request logs and invites (API.md §3).' },
  { name: 'files', description: 'Uploads, files and presigned uploads (API.md §4).' },
  { name: 'folders', description: 'Folders (API.md §4).' },
  { name: 'delivery', description: 'Public delivery of originals (API.md §5).' },
  { name: 'sharing', description: 'Embed pages (`/v/:id`) with OpenGraph/Twitter cards and oEmbed, and protected share links (`/s/<token>`: password, view limit, expiry).' },
  { name: 'transformations', description: 'On-the-fly image transformations and signed URLs (API.md §6, TRANSFORMS.md).' },
  { name: 'cache', description: 'Derivative cache control: purge a file\'s derivatives, cache statistics.' },
  { name: 'queue', description: 'Job queue and its live events (API.md §8).' },
  { name: 'webhooks', description: 'Webhook endpoints of an account: `file.uploaded`, `file.deleted`, `file.expired`, `job.failed`, signed with Standard Webhooks HMAC-SHA256, retried with backoff, with a delivery log (README § Webhooks).' },
  { name: 'admin', description: 'Administration (API.md §9).' },
  { name: 'health', description: 'Liveness, readiness and metrics (API.md §10).' },
  { name: 'reference', description: 'Machine-readable reference data (API.md §10).' },
];

/** Every way to authenticate (API.md §2); routes list the ones they accept in `security`. */
export const SECURITY_SCHEMES = {
  bearerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from login or refresh (15 min).' },
  bearerApiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'pk_…', description: 'API key as a bearer token.' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key in its own header.' },
  cookie: { type: 'apiKey', in: 'cookie', name: 'pictor_access', description: 'Browser session; mutating requests also need `X-CSRF-Token`.' },
  csrfHeader: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The value of the `pictor_csrf` cookie; required with the cookie session on state-changing requests.' },
} as const;

/** The `security` requirement of an authenticated route (defined beside its only reader, so the two files import one way). */
export { AUTHENTICATED } from './openapi-contract';
/** Session-only routes (API keys cannot manage API keys). */
export const SESSION_ONLY = [{ bearerJwt: [] }, { cookie: [] }];

export function docs(deps: AppDeps) {
  let bundle: Promise<Buffer> | null = null;
  const description =
    'Self-hosted media server: streamed uploads, public delivery, on-the-fly image transformations, ' +
    'accounts and scoped API keys. Every error is `{error, message, details?}` (the `Error` schema; each operation lists its statuses), except on the server-rendered pages (`/reset-password`, `/verify-email`, a share link opened by a browser), which answer pages. ' +
    'A method a path does not take is a 405 `METHOD_NOT_ALLOWED` with an `Allow` header, and every `GET` also answers `HEAD` (its headers, no body). ' +
    'Nothing is silently ignored: a query parameter, JSON body field or multipart field a route does not list is a 400 ' +
    '`VALIDATION_ERROR` naming it (with the close known name, e.g. `isPublic` → `is_public`); a JSON route answers any ' +
    'other body type, or a body without `Content-Type`, with 415. A NUL byte (`%00` in the path or query, `\\u0000` in a JSON string) ' +
    'is a 400 `VALIDATION_ERROR`. Public delivery (`/i`, `/d`, `/t`, `/authenticated`) ' +
    'ignores query strings, so cache-busters such as `?v=123` work. Rate limits answer 429 `RATE_LIMITED` with ' +
    '`Retry-After` and `X-RateLimit-*`; they are sliding windows shared through Redis, where the `public` and `api` ' +
    'buckets (and `transform` when its limit is 128 or more) count in per-process slices of 1/64 of the limit: a client ' +
    'gets at most `limit + processes × slice` in a window; login, registration, password, refresh and upload buckets count exactly.\n\n' +
    grammarMarkdown(deps.delivery.limits, deps.delivery.presets);
  const plugin: Elysia = new Elysia({ name: 'pictor.docs' });
  return plugin
    .onAfterHandle(({ path, responseValue }) => {
      if (path !== '/openapi.json') return;
      // The spec carries the whole description; the page's meta tags only PAGE_DESCRIPTION.
      (responseValue as { info: { description: string } }).info.description = description;
      fixVoidResponses(responseValue);
      // The app's routes, not only this plugin's (`routes`); the method is protected in the types only.
      const routes = (plugin as unknown as { getGlobalRoutes(): RouteLike[] }).getGlobalRoutes();
      fillJsonBodies(responseValue, routes, deps.requests.formRoutes);
      addOptionsOperations(responseValue, routes);
      normalizeSpec(responseValue);
      pageErrors(responseValue, deps.requests.errorPages);
    })
    .use(
      openapi({
        specPath: '/openapi.json',
        // The page is ours (below): it is filled per visitor, which the plugin's fixed page cannot be.
        provider: null,
        exclude: { paths: [SCALAR_BUNDLE_PATH, '/docs'] },
        documentation: {
          info: {
            title: 'Pictor API',
            version: deps.version,
            description: PAGE_DESCRIPTION,
          },
          // Read when the spec is rendered: without PUBLIC_URL it follows the listening port, known only after start.
          servers: [{ get url() { return deps.config.publicUrl; } }],
          tags: TAGS,
          // The envelope of every error, named for generated clients (the responses carry it inline).
          components: { securitySchemes: SECURITY_SCHEMES, schemas: { Error: ErrorSchema } },
        },
      }),
    )
    .get('/docs', ({ request }) => docsPage(deps, request), { detail: { hide: true } })
    .get(
      SCALAR_BUNDLE_PATH,
      async () => {
        bundle ??= readFile(SCALAR_BUNDLE_FILE);
        return new Response(new Uint8Array(await bundle), {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' },
        });
      },
      { detail: { hide: true } },
    );
}

/**
 * What the plugin writes into the reference page's `<meta name="description">` tags, as it is
 * (unescaped). The full description went there before, and the transformation grammar's `"`
 * (`joined by "."`) ended the attribute: the rest of it, tables and all, showed as plain text
 * above the reference. The spec gets the full description (the `/openapi.json` hook above).
 */
const PAGE_DESCRIPTION = 'Pictor API reference: uploads, files, delivery, image transformations, accounts, API keys and admin.';

interface SpecLike {
  paths?: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, unknown> }>; requestBody?: { content?: Record<string, unknown> } }>
  >;
}

/**
 * Our one global body parser (http.ts) is a function, and @elysiajs/openapi lists a body's
 * media types only for named parsers, so every JSON body came out as `content: {}`: no schema
 * for clients or the fuzz test. Every body a route declares is JSON (uploads stream their own
 * and declare none), so the route's schema goes under `application/json`, with the schema's
 * example as the body's `example`.
 */
type RouteLike = { method: string; path: string; hooks?: { body?: unknown; detail?: { summary?: string; description?: string; tags?: string[]; hide?: boolean } } };

/**
 * The plugin leaves out OPTIONS routes; the documented ones (tus discovery, which clients call)
 * go in with their 204. CORS preflights are answered before routing and are not operations.
 */
function addOptionsOperations(spec: unknown, routes: RouteLike[]): void {
  const paths = ((spec as SpecLike)?.paths ?? {}) as Record<string, Record<string, unknown>>;
  for (const route of routes) {
    const detail = route.hooks?.detail;
    if (route.method !== 'OPTIONS' || !detail?.summary || detail.hide) continue;
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    paths[path] ??= {};
    paths[path].options = {
      tags: detail.tags ?? ['files'], summary: detail.summary, ...(detail.description ? { description: detail.description } : {}),
      operationId: `options${path.replace(/[{}]/g, '').split(/[/_-]/).map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')).join('')}`,
      ...(params.length ? { parameters: params } : {}),
      responses: {
        204: { description: 'The discovery headers, no body.' },
        403: { description: 'FORBIDDEN — a CORS preflight from an origin that may not call the API (`CORS_API_ORIGINS`).', content: { 'application/json': { schema: ErrorSchema } } },
      },
    };
  }
}

/**
 * The routes whose refusals are pages (http.ts `answerErrorsAsPage`): every error answer of theirs
 * is `text/html`, or also `text/html` for a browser's request, the statuses added for every route too.
 */
function pageErrors(spec: unknown, pages: ReadonlyMap<string, { browserOnly: boolean }>): void {
  const paths = (spec as SpecLike)?.paths ?? {};
  for (const [route, page] of pages) {
    for (const op of Object.values(paths[route.replace(/:(\w+)/g, '{$1}')] ?? {})) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (Number(status) < 400 || !response.content?.['application/json']) continue;
        const html = { schema: { type: 'string' } };
        response.content = page.browserOnly ? { ...response.content, 'text/html': html } : { 'text/html': html };
      }
    }
  }
}

function fillJsonBodies(spec: unknown, routes: RouteLike[], formRoutes: ReadonlySet<string>): void {
  const paths = (spec as SpecLike)?.paths ?? {};
  for (const route of routes) {
    if (!route.hooks?.body) continue;
    const op = paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
    if (op?.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0) {
      op.requestBody.content = { 'application/json': { schema: route.hooks.body } };
    }
    // A route an HTML form posts to takes its fields form-encoded too (http.ts `acceptFormBody`).
    const content = op?.requestBody?.content;
    if (content?.['application/json'] && formRoutes.has(route.path) && !content['application/x-www-form-urlencoded']) {
      content['application/x-www-form-urlencoded'] = { schema: (content['application/json'] as { schema?: unknown }).schema };
    }
  }
  for (const ops of Object.values((spec as SpecLike)?.paths ?? {})) {
    for (const op of Object.values(ops)) {
      // The schema's own example, where it gives one, is what /docs fills "Test Request" with: generated from
      // the properties, a body holds every optional field with an empty value (a 400 more often than not).
      const json = op.requestBody?.content?.['application/json'] as { schema?: { examples?: unknown[] }; example?: unknown } | undefined;
      if (json?.schema?.examples?.length && json.example === undefined) json.example = json.schema.examples[0];
    }
  }
}

/**
 * @elysiajs/openapi renders a `t.Void()` response (our 204s) as `content: {type: "void"}`,
 * which is not a media-type map and fails OpenAPI validation; a bodiless response has no
 * `content` at all. The plugin caches the spec object, so this runs once per change of routes.
 */
function fixVoidResponses(spec: unknown): void {
  for (const ops of Object.values((spec as SpecLike)?.paths ?? {})) {
    for (const op of Object.values(ops)) {
      for (const response of Object.values(op.responses ?? {})) {
        if (response.content && Object.keys(response.content).some((k) => !k.includes('/'))) delete response.content;
      }
    }
  }
}

/**
 * Scalar's settings: self-hosted and private, so our own bundle, system fonts, no telemetry, no
 * AI agent, no request proxy. Partial: Scalar fills in the rest of its defaults.
 */
const SCALAR_CONFIG = {
  // Absolute: from `/docs/` (trailing slash) a relative one asked for /docs/openapi.json.
  url: '/openapi.json',
  version: 'latest',
  cdn: SCALAR_BUNDLE_PATH,
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  proxyUrl: '',
  showDeveloperTools: 'never',
  hideClientButton: false,
};

/**
 * The reference page. "Test Request" with the browser's session: the cookie goes along by
 * itself, but a write also needs `X-CSRF-Token` (API.md §2), which a person cannot see (it is in
 * a cookie). For a signed-in visitor the page's configuration fills the `csrfHeader` scheme with
 * their token and prefers it, so writes from /docs work as they do from the app (they were 403
 * CSRF_INVALID). The token is one the visitor's own scripts can read anyway; such a page is
 * never stored. Its requests name it in `Referer` (same origin only, nothing leaves the site),
 * so a sign-in sent from here leaves the browser's session alone (auth/cookies.ts
 * `sentFromReference`).
 */
function docsPage(deps: AppDeps, request: Request): Response {
  const csrf = readCookie(request, CSRF_COOKIE);
  const session = csrf !== null && /^[A-Za-z0-9_-]{16,128}$/.test(csrf);
  const config = {
    ...SCALAR_CONFIG,
    ...(session ? { authentication: { preferredSecurityScheme: 'csrfHeader', securitySchemes: { csrfHeader: { value: csrf } } } } : {}),
  };
  const html = ScalarRender({ title: 'Pictor API', version: deps.version, description: PAGE_DESCRIPTION }, config as unknown as Parameters<typeof ScalarRender>[1]);
  return new Response(html, {
    headers: {
      'content-type': 'text/html; charset=utf-8', 'cache-control': session ? 'private, no-store' : 'no-cache', vary: 'Cookie',
      'referrer-policy': 'same-origin',
    },
  });
}
