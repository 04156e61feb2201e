/**
 * `/api/uploads` (API.md §4): `POST /presign` issues a one-time URL; `POST /:token` is that URL,
 * taking the same multipart or raw body as `POST /api/files` without any credential (the token
 * is the credential), with CORS so a browser page on another origin can use it.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { streamRequestBody } from '../../http';
import { authGuard } from '../auth/guard';
import { contentLengthOf, limitHeadersOf } from '../limits/plugin';
import { startUploadLimits } from '../limits/upload';
import { MAX_PRESIGN_EXPIRES_IN_S, claimUploadToken, createUploadToken } from './presign';
import { UploadedMany, UploadedOne, UploadQuery } from './model';
import { disableIdleTimeout } from '../../platform/server';
import { storedBytes, uploadResponse } from './routes';
import { runUpload } from './upload';
import { PRESIGNED_UPLOAD_REQUEST_BODY } from './upload-doc';

const PresignBody = t.Object({
  folder: t.Optional(t.String({ maxLength: 4096, description: 'Every file goes here (created when missing); the uploader cannot change it.' })),
  // The bound keeps a value the database's bigint and JSON's doubles both hold exactly (1e19 was a 500).
  max_size: t.Optional(t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Bytes per file, at most 9007199254740991; the account limit (setting `max_upload_size_bytes`, capped by the plan) applies too.' })),
  content_types: t.Optional(t.Array(t.String({ minLength: 3, maxLength: 127 }), {
    minItems: 1, maxItems: 50, description: 'Allowed types, e.g. `image/*`, `application/pdf` (within the server allow-list).',
  })),
  expires_in: t.Optional(t.Integer({ minimum: 1, maximum: MAX_PRESIGN_EXPIRES_IN_S, default: 900, description: 'Seconds, ≤ 3600.' })),
  is_public: t.Optional(t.Boolean({ description: 'Visibility of the uploaded files; default: the account setting `default_is_public`.' })),
});
const PresignResult = t.Object({ url: t.String(), expires_at: t.String({ format: 'date-time' }) });
const TokenParams = t.Object({ token: t.String({ maxLength: 128 }) });

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-file-name',
  'access-control-max-age': '600',
};

export function uploadRoutes(deps: AppDeps) {
  streamRequestBody(deps, '/api/uploads/:token');
  return new Elysia({ name: 'pictor.uploads.routes', prefix: '/api/uploads', detail: { tags: ['files'] } })
    .use(authGuard(deps))
    .post(
      '/presign',
      async ({ principal, body, set }) => {
        set.status = 201;
        return createUploadToken(deps, principal.userId, body);
      },
      {
        auth: 'files:write',
        body: PresignBody,
        response: { 201: PresignResult, ...errorResponses(400, 401, 403) },
        detail: {
          summary: 'Create a presigned upload URL',
          description: 'A one-time URL a browser can POST one file to (multipart with one file part, or raw, as `POST /api/files`) without credentials, until `expires_at`; a form with more file parts is a 400. A failed upload leaves it usable; a successful one spends it.',
        },
      },
    )
    .options('/:token', ({ set }) => {
      Object.assign(set.headers, CORS);
      set.status = 204;
    }, { params: TokenParams, detail: { summary: 'CORS preflight for a presigned upload' } })
    .post(
      '/:token',
      async ({ request, params, query, set }) => {
        Object.assign(set.headers, CORS);
        const claim = await claimUploadToken(deps, params.token);
        try {
          const limits = await startUploadLimits(deps, limitHeadersOf(set), claim.owner, contentLengthOf(request));
          try {
            disableIdleTimeout(request);
            const out = await runUpload(deps, claim.owner, request, query, { ...claim.policy, onBytes: limits.chargeBytes });
            const { status, body } = uploadResponse(out);
            await limits.finish(storedBytes(out));
            set.status = status;
            if (out.files.length === 0) await claim.release(); // nothing stored: still usable
            return body;
          } finally {
            await limits.release();
          }
        } catch (err) {
          await claim.release();
          throw err;
        }
      },
      {
        parse: 'none',
        params: TokenParams,
        query: UploadQuery,
        response: { 201: t.Union([UploadedOne, UploadedMany]), 207: UploadedMany, ...errorResponses(400, 403, 404, 408, 409, 410, 413, 415, 429, 507) },
        detail: {
          summary: 'Upload to a presigned URL',
          requestBody: PRESIGNED_UPLOAD_REQUEST_BODY,
          description: 'No credential: the token in the path is one. Folder, visibility, size and types come from the presign policy: a `folder` or `is_public` other than the policy\'s is a 400 (the same value, or none, is fine). 404 unknown, 410 expired, 409 already used.',
        },
      },
    );
}
