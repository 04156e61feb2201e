/**
 * Originals beyond public delivery, for every file type (images, PDFs, video, anything):
 *
 * - Signed originals (the scheme of docs/TRANSFORMS.md, "Policy and limits"): `GET|HEAD /i/s--<sig>/exp_<unix>/<id>[.<ext>]` inline and
 *   `/d/s--<sig>/exp_<unix>/<id>[.<ext>]` as an attachment, private files included. The signature
 *   covers `i/exp_<unix>/<id>[.<ext>]` (the `i/` keeps it apart from transformation signatures),
 *   and one signature serves both forms. They serve the same bytes as `/i`: GPS blanked.
 * - The owner's download: `GET|HEAD /api/files/:id/original` with credentials, the byte-exact
 *   original as uploaded (GPS included), like Immich's `/api/assets/:id/original`.
 */
import { Elysia, t } from 'elysia';
import { binaryResponse } from '../../openapi-contract';
import type { AppDeps } from '../../deps';
import { answerErrorsAsPage } from '../../http';
import { errorResponseAs, errorResponses, gone, invalidSignature, notFound, validationError } from '../../errors';
import { authGuard } from '../auth/guard';
import { getOwnFileOrThrow } from '../files/service';
import { ensurePublicCopy } from '../files/public-copy';
import { signPayload, verifySignature } from '../transform/sign';
import { publicBytesOf, serveStoredFile } from './routes';

const YEAR_S = 31_536_000;

/** The signed string of a signed original URL. */
export const signedOriginalPayload = (params: string, file: string) => `i/${params}/${file}`;

/** `/i/s--…/exp_…/<file>` for one file, valid until `expiresAt` (unix seconds); `/d/…` takes the same signature. */
export function signOriginal(secret: string, file: string, expiresAt: number): { path: string; downloadPath: string } {
  const params = `exp_${expiresAt}`;
  const sig = signPayload(secret, signedOriginalPayload(params, file));
  return { path: `/i/s--${sig}/${params}/${file}`, downloadPath: `/d/s--${sig}/${params}/${file}` };
}

// The router needs the first segment to share `/i/:id`'s parameter name: it holds `s--<signature>` here.
const SignedParams = t.Object({
  id: t.String({ maxLength: 80, description: '`s--<signature>`: base64url HMAC-SHA256 of `i/<params>/<file>`, first 24 characters (docs/TRANSFORMS.md, "Policy and limits").' }),
  params: t.String({ maxLength: 40, description: '`exp_<unix seconds>`: past it the URL answers 410.' }),
  file: t.String({ maxLength: 80, description: 'File id, optionally with its extension.' }),
});
const binary = { 200: binaryResponse('The file\'s bytes.', ['*/*']), 206: binaryResponse('A byte range.', ['*/*']), 304: binaryResponse('Not modified.', []) };

export function privateDeliveryRoutes(deps: AppDeps) {
  const signed = (attachment: boolean) => async ({ request, params }: { request: Request; params: typeof SignedParams.static }) => {
    if (!params.id.startsWith('s--')) throw notFound('File');
    const exp = /^exp_(\d{1,12})$/.exec(params.params);
    if (!exp) throw validationError('A signed original URL takes one parameter, exp_<unix seconds>.', [{ path: '/params', message: 'expected exp_<unix seconds>' }]);
    if (!verifySignature(deps.secrets.signingSecrets, signedOriginalPayload(params.params, params.file), params.id.slice(3))) {
      throw invalidSignature();
    }
    const now = deps.clock.now();
    const expiresAt = Number(exp[1]) * 1000;
    if (expiresAt <= now) throw gone('This signed URL has expired.');
    const id = params.file.split('.')[0] ?? '';
    const f = /^[A-Za-z0-9]{6,64}$/.test(id) ? await deps.delivery.lookup.get(id) : null;
    if (!f || f.ownerBanned) throw notFound('File');
    if (f.expiresAt !== null && f.expiresAt <= now) throw gone('This file has expired.');
    const until = Math.min(expiresAt, f.expiresAt ?? Infinity);
    const cacheControl = `private, max-age=${Math.min(YEAR_S, Math.floor((until - now) / 1000))}`;
    return serveStoredFile(deps, request, publicBytesOf(await ensurePublicCopy(deps, f)), { attachment, cacheControl });
  };
  const signedDoc = (attachment: boolean) => ({
    params: SignedParams,
    response: {
      ...binary, ...errorResponses(400, 404, 410, 416),
      403: errorResponseAs('INVALID_SIGNATURE — the signature does not match `i/<expiry>/<file>`.'),
    },
    detail: {
      tags: ['delivery'],
      'x-path-names': { id: 'signature', params: 'expiry' },
      summary: attachment ? 'Signed original (download)' : 'Signed original (inline)',
      description: 'The original of any file, private ones included, through a URL from `POST /api/files/{id}/signed-url` with `original: true`. '
        + 'Same bytes as `/i` (a photo\'s GPS blanked); `/i/…` and `/d/…` take the same signature. Wrong signature → 403 INVALID_SIGNATURE; past `exp_` → 410.',
    },
  });
  const ownDoc = {
    auth: 'files:read' as const,
    params: t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) }),
    response: { ...binary, ...errorResponses(401, 403, 404, 410, 416) },
    detail: {
      tags: ['files'],
      summary: 'Download the original (owner)',
      description: 'The byte-exact original as uploaded, GPS and all (ETag = the file\'s `sha256`), as an attachment; any type, private or public. '
        + 'API key, bearer token or session cookie; other accounts get 404.',
    },
  };
  const own = async ({ request, params, principal }: { request: Request; params: { id: string }; principal: { userId: string } }) => {
    const f = await getOwnFileOrThrow(deps, principal.userId, params.id);
    return serveStoredFile(deps, request, f, { attachment: true, cacheControl: 'private, no-cache' });
  };
  for (const route of ['/i/:id/:params/:file', '/d/:id/:params/:file']) answerErrorsAsPage(deps, route, 'File not available', true);
  return new Elysia({ name: 'pictor.delivery.private' })
    .use(authGuard(deps))
    .get('/i/:id/:params/:file', signed(false), signedDoc(false))
    .head('/i/:id/:params/:file', signed(false), signedDoc(false))
    .get('/d/:id/:params/:file', signed(true), signedDoc(true))
    .head('/d/:id/:params/:file', signed(true), signedDoc(true))
    .get('/api/files/:id/original', own, ownDoc)
    .head('/api/files/:id/original', own, ownDoc);
}
