/**
 * `GET|HEAD /t/:transformations/:file` and `/authenticated/s--:sig/:transformations/:file`
 * (API.md §6, TRANSFORMS.md), plus `POST /api/files/:id/signed-url` and its batch form
 * `POST /api/files/signed-urls`.
 *
 * The handler has two clearly separate paths: a cache hit (memory, then disk) that answers
 * from bytes already encoded, and a miss that counts against the `transform` rate-limit bucket
 * and renders under the bounded pool. `If-None-Match` is answered with 304 before either.
 */
import { Elysia, t } from 'elysia';
import { binaryResponse } from '../../openapi-contract';
import { answerErrorsAsPage, onUnmatchedPath } from '../../http';
import type { AppDeps } from '../../deps';
import { AppError, errorResponseAs, errorResponses, gone, notFound } from '../../errors';
import { actsAsAdmin, authGuard } from '../auth/guard';
import type { CachedDerivative } from '../cache/types';
import { getManagedFileOrThrow, getManagedFiles, isExpired } from '../files/service';
import { enforceIpLimit } from '../limits/plugin';
import { chainPathProblem, chainRoutes } from './chain-routes';
import { rawSegments } from './raw-path';
import { readHints } from './hints';
import { isNotModified } from '../../lib/http-cache';
import { auditSignedFiles } from '../admin/moderation';
import { DEFAULT_SIGNED_TTL_S, derivativeHeaders, matchesEtag, notModifiedHeaders, YEAR_S, type XCache } from './headers';
import { type ResolvedRequest } from './service';
import { serveRendition } from '../video/rendition';
import { checkSignedUrlRequest, createSignedUrl } from './signed-url';

function respond(r: ResolvedRequest, entry: CachedDerivative, xCache: XCache, nowMs: number, timingMs?: number): Response {
  const headers = derivativeHeaders(r, entry, xCache, nowMs);
  if (timingMs !== undefined) headers['server-timing'] = `transform;dur=${timingMs.toFixed(1)}`;
  return new Response(entry.body as Uint8Array<ArrayBuffer>, { status: 200, headers });
}

/** The errors `/t` and `/authenticated` answer with, by what they mean there. */
const TRANSFORM_ERRORS = {
  400: errorResponseAs('INVALID_TRANSFORMATION — a key, value or combination the grammar does not take (`details.parameter`, `details.allowed`, `details.value`); a video rendition over `VIDEO_MAX_DURATION`/`VIDEO_MAX_PIXELS`.'),
  403: errorResponseAs('INVALID_SIGNATURE — a wrong signature, or an unsigned URL that `TRANSFORM_POLICY` (presets, signed) does not allow; FORBIDDEN — an unsigned video rendition of an account that forces its watermark (settings `force_watermark`).'),
  404: errorResponseAs('NOT_FOUND — no such file, a private file on an unsigned URL, or an owner who is banned.'),
  410: errorResponseAs('GONE — the file or the signed URL (`exp_`) has expired.'),
  416: errorResponseAs('RANGE_NOT_SATISFIABLE — a `Range` outside a ready video rendition.'),
  422: errorResponseAs('UNPROCESSABLE_IMAGE — the stored image cannot be decoded (`details.reason`), or the video rendition\'s job failed (its error).'),
  429: errorResponseAs('RATE_LIMITED — too many renders (cache misses) from this address (`transform` bucket); see `Retry-After`.'),
  503: errorResponseAs('OVERLOADED — the render queue is full, or the render ran past `TRANSFORM_TIMEOUT_MS`; see `Retry-After`.'),
};

const deliveryParams = t.Object({
  transformations: t.String({ description: 'Comma-separated `key_value` parameters (TRANSFORMS.md), e.g. `w_400,h_300,c_fill`.' }),
  file: t.String({ description: 'File id, optionally with an output extension: `abc123XyZ9.webp`.' }),
});

/** What `POST /api/files/:id/signed-url` and its batch form take, and give per file. */
const signFields = {
  transformations: t.Optional(t.String({ minLength: 1, maxLength: 5 * 1024 + 4, description: 'Transformation segment, e.g. `w_400,f_webp`, or a chain of steps joined by `/` (`c_fill,w_400,h_400/e_brightness:20`); default none (`f_auto`). For a video rendition add `.mp4` or `.webm` (`w_640.mp4`). Without `exp_` (400): the server writes it from `expires_in`.', examples: ['w_400,f_webp'] })),
  expires_in: t.Optional(t.Integer({ minimum: 1, maximum: YEAR_S, description: `Seconds the URL stays valid (default ${DEFAULT_SIGNED_TTL_S}).`, examples: [3600] })),
  original: t.Optional(t.Boolean({
    description: 'Sign the original instead of a derivative: `url` is `/i/s--<sig>/exp_<t>/<id>.<ext>`, `download_url` the `/d/…` form. '
      + 'The default for files `/t` cannot render (PDF, video, SVG, …) when no `transformations` are given.',
  })),
};
const signedUrlFields = {
  url: t.String({
    description: 'The signed `/authenticated/s--…` URL, or for an original `/i/s--…/exp_<t>/<id>.<ext>` (inline).',
    examples: ['https://media.example.com/authenticated/s--Xb3k9QwzT0aLr2mN/exp_1767225600,f_webp,w_400/abc123XyZ9kq'],
  }),
  download_url: t.Optional(t.String({ description: 'For an original: the same signature as an attachment, `/d/s--…/exp_<t>/<id>.<ext>`.' })),
  expires_at: t.String({ format: 'date-time' }),
};

export function transformRoutes(deps: AppDeps) {
  const delivery = deps.delivery;
  const expired = (f: { expiresAt: Date | null }) => isExpired(f, deps.clock.now());
  onUnmatchedPath(deps, chainPathProblem);

  async function handle(request: Request, set: { headers: Record<string, unknown> }, params: { transformations: string; file: string }, signature?: string) {
    // `/t/<steps…>/<file>` or `/authenticated/s--<sig>/<steps…>/<file>`: the steps as sent (raw-path.ts).
    const segments = rawSegments(request.url);
    if (segments.at(-1) === '') segments.pop(); // a trailing slash: the same URL (the router ignores it; the id was read as a step)
    const transformations = segments.slice(signature === undefined ? 1 : 2, -1).join('/');
    const r = await delivery.resolve({ file: params.file, transformations, signature, accept: request.headers.get('accept') ?? '', hints: readHints((n) => request.headers.get(n)) });
    // Video renditions are files made by a queue job (202 until ready), not in-memory derivatives.
    if (r.rendition) return serveRendition(deps, delivery, request, r, set);
    const now = deps.clock.now();
    if (matchesEtag(request.headers.get('if-none-match'), `"${r.key.variant}"`)) {
      return new Response(null, { status: 304, headers: notModifiedHeaders(r, now) });
    }
    // Hit path: bytes already encoded, memory first, then disk (promoted into memory).
    const hot = delivery.cache.getMemory(r.key);
    const hit = hot ? { entry: hot, tier: 'HIT-MEMORY' as const } : await delivery.cache.get(r.key);
    if (hit) {
      // Without If-None-Match, If-Modified-Since decides (RFC 9110 §13.1.3); a render is always newer.
      if (isNotModified(request.headers, `"${r.key.variant}"`, hit.entry.lastModified)) {
        return new Response(null, { status: 304, headers: notModifiedHeaders(r, now) });
      }
      deps.usage.recordBytesServed(r.file.userId, hit.entry.body.byteLength);
      return respond(r, hit.entry, hit.tier, now);
    }
    // Miss path: rate-limited per client IP, rendered under the bounded pool (single-flight).
    if (!deps.config.disableRateLimit) await enforceIpLimit(deps, request, set, 'transform');
    const { entry, ms } = await delivery.render(r);
    deps.usage.recordBytesServed(r.file.userId, entry.body.byteLength);
    return respond(r, entry, 'MISS', now, ms);
  }

  const imageResponse = {
    200: binaryResponse('The derivative image, or a ready video rendition (`.mp4`/`.webm`).', ['image/*', 'video/mp4', 'video/webm']),
    202: t.Object({
      status: t.UnionEnum(['pending', 'running', 'not_started'], { description: '`not_started`: a HEAD found no job (HEAD never starts one).' }),
      job_id: t.Nullable(t.String({ description: 'The `video_render` job (`/api/queue/jobs`).' })),
      progress: t.Integer(),
      retry_after: t.Integer({ description: 'Seconds; also in `Retry-After`.' }),
      message: t.String(),
    }, { description: 'Video rendition not ready yet: its job was started (GET) or is running. Ask again after `Retry-After`.' }),
    206: binaryResponse('A byte range of a ready video rendition (`Range`).', ['video/mp4', 'video/webm']),
    304: binaryResponse('Not modified.', []),
  };

  const deliveryResponse = { ...imageResponse, ...TRANSFORM_ERRORS };
  const unsigned = {
    params: deliveryParams,
    response: deliveryResponse,
    detail: {
        tags: ['transformations'],
        summary: 'Transformed image of a public file',
        description: 'Derivative of a public image (TRANSFORMS.md). `X-Cache` says HIT-MEMORY, HIT-DISK or MISS; `If-None-Match` → 304. HEAD answers the same headers. '
          + 'Of a video: without an extension (or with an image one) a poster frame at `so_` through the image pipeline; with `.mp4`/`.webm` a rendition '
          + '(w, h, c fill/lfill/fit/limit/scale/pad, q, so, eo, ac_none, fps, br) made by a `video_render` job: 202 with `Retry-After` until it is ready, '
          + 'then the file with `Range` (206); HEAD answers 200 when ready, else 202 without starting a job (or the 400 a GET would give); a failed job answers 422 with its error for an hour, or until the limits it failed under change, then the next request tries again. '
          + 'Limits: VIDEO_MAX_DURATION, VIDEO_MAX_PIXELS for the source and the output frame (400), VIDEO_MAX_OUTPUT_BYTES and VIDEO_TIMEOUT_MS (the job fails); '
          + 'each new rendition spends the caller\'s `transform` bucket (429), and at most 16 of one account\'s videos wait at once (503 OVERLOADED with `Retry-After`).',
    },
  };
  const signedDoc = {
    params: t.Object({ signature: t.String({ description: '`s--<signature>`: the first 24 characters of base64url(HMAC-SHA256(secret, `<transformations>/<id>[.<ext>]`)); `POST /api/files/{id}/signed-url` makes one.' }), ...deliveryParams.properties }),
    response: deliveryResponse,
    detail: {
      tags: ['transformations'],
      summary: 'Transformed image through a signed URL',
      description: 'Works for private files too. A wrong signature → 403 INVALID_SIGNATURE; `exp_` in the past → 410. HEAD answers the same headers.',
    },
  };
  const unsignedHandler = ({ request, set, params }: { request: Request; set: { headers: Record<string, unknown> }; params: { transformations: string; file: string } }) =>
    handle(request, set, params);
  const signedHandler = ({ request, set, params }: { request: Request; set: { headers: Record<string, unknown> }; params: { signature: string; transformations: string; file: string } }) => {
    if (!params.signature.startsWith('s--')) throw notFound('File');
    return handle(request, set, { transformations: params.transformations, file: params.file }, params.signature.slice(3));
  };
  const headOf = <T extends { detail: { summary: string } }>(doc: T): T => ({ ...doc, detail: { ...doc.detail, summary: `${doc.detail.summary} (headers)` } });

  for (const route of ['/t/:transformations/:file', '/authenticated/:signature/:transformations/:file']) answerErrorsAsPage(deps, route, 'Image not available', true);
  return new Elysia({ name: 'pictor.transform' })
    .use(authGuard(deps))
    .use(chainRoutes(handle, deliveryResponse))
    .get('/t/:transformations/:file', unsignedHandler, unsigned)
    .head('/t/:transformations/:file', unsignedHandler, headOf(unsigned))
    .get('/authenticated/:signature/:transformations/:file', signedHandler, signedDoc)
    .head('/authenticated/:signature/:transformations/:file', signedHandler, headOf(signedDoc))
    .post('/api/files/:id/signed-url', async ({ params, body, principal }) => {
      const file = await getManagedFileOrThrow(deps, principal, params.id);
      // Its every URL answers 410: a signed one would too (it was made, a 200).
      if (expired(file)) throw gone('This file has expired.');
      const signed = createSignedUrl(deps, delivery, file, body);
      if (file.userId !== principal.userId) await auditSignedFiles(deps, principal, [file.id]);
      return signed;
    }, {
      auth: 'transform:sign',
      params: t.Object({ id: t.String() }),
      body: t.Object(signFields),
      response: {
        200: t.Object(signedUrlFields),
        ...errorResponses(400, 401, 403, 404, 410),
      },
      detail: {
        tags: ['transformations'],
        summary: 'Create a signed URL',
        description: 'For the file owner (or an admin calling with the `admin` scope, recorded in the audit trail as a `file.view` of another account\'s file): a signed transformation URL, or with `original: true` (the default for non-images) a signed URL of the original, any file type. '
          + 'Private files are reachable publicly only this way. Signed originals carry no GPS, like `/i`.',
      },
    })
    .post('/api/files/signed-urls', async ({ body, principal }) => {
      const { ids: asked, ...request } = body;
      checkSignedUrlRequest(delivery, request); // what no file could take is a 400 for the whole call
      const ids = [...new Set(asked)];
      const found = new Map((await getManagedFiles(deps, principal, ids)).map((f) => [f.id, f]));
      const results: ({ id: string } & ReturnType<typeof createSignedUrl>)[] = [];
      const errors: { id: string; error: string; message: string }[] = [];
      for (const id of ids) {
        const file = found.get(id);
        if (!file) {
          errors.push({ id, error: 'NOT_FOUND', message: 'File not found.' });
          continue;
        }
        if (expired(file)) {
          errors.push({ id, error: 'GONE', message: 'This file has expired.' });
          continue;
        }
        try {
          results.push({ id, ...createSignedUrl(deps, delivery, file, request) });
        } catch (err) {
          if (!(err instanceof AppError) || err.status !== 400) throw err;
          errors.push({ id, error: err.code, message: err.message });
        }
      }
      if (actsAsAdmin(principal)) await auditSignedFiles(deps, principal, results.map((r) => r.id));
      return { results, errors };
    }, {
      auth: 'transform:sign',
      body: t.Object({ ids: t.Array(t.String({ maxLength: 64 }), { minItems: 1, maxItems: 100, description: 'Up to 100 file ids (repeats count once).' }), ...signFields }),
      response: {
        200: t.Object({
          results: t.Array(t.Object({ id: t.String(), ...signedUrlFields }), { description: 'One signed URL per file signed, in the order of `ids`.' }),
          errors: t.Array(t.Object({ id: t.String(), error: t.String(), message: t.String() }), {
            description: 'Files not signed: `NOT_FOUND` (unknown, deleted, or not yours), `GONE` (expired), or the transformation does not apply to that file (e.g. video keys on an image).',
          }),
        }),
        ...errorResponses(400, 401, 403),
      },
      detail: {
        tags: ['transformations'],
        summary: 'Create signed URLs for several files',
        description: '`POST /api/files/{id}/signed-url` for up to 100 files in one call, with the same options for each: '
          + 'a gallery of private images signs its thumbnails in one request (the web app does). '
          + 'A transformation no file could take is a 400 for the whole call.',
      },
    });
}
