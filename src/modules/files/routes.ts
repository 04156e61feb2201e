/**
 * `/api/files` (API.md §4). Upload routes use `parse: 'none'` so the body reaches the
 * streaming ingest untouched; everything else is thin over service.ts.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound } from '../../errors';
import { noContent, streamRequestBody } from '../../http';
import { queryOf } from '../../lib/request-path';
import { disableIdleTimeout } from '../../platform/server';
import { authGuard, type Principal } from '../auth/guard';
import { getFileMetadata } from './metadata';
import {
  BulkDeleteBody, BulkDeleteResult, FileList, FileMetadata, FilePatchSchema, FileSchema, ListQuerySchema,
  UploadedMany, UploadedOne, UploadQuery,
} from './model';
import { forgetFiles } from './invalidate';
import { jsonTextResponse } from '../../lib/json-response';
import { getOwnFileOrThrow, listFiles, patchFile, softDeleteFiles, toFileJson, urlBaseOf } from './service';
import { runUpload, type UploadRun } from './upload';
import { UPLOAD_REQUEST_BODY } from './upload-doc';
import type { UploadOwner } from './ingest';
import { contentLengthOf, limitHeadersOf } from '../limits/plugin';
import { startUploadLimits } from '../limits/upload';
import { refuseWatermarkDeletes, watermarkImages } from '../transform/watermarks';

const IdParams = t.Object({ id: t.String({ minLength: 1, maxLength: 64 }) });

const UPLOAD_DESCRIPTION = [
  'Two styles, both streamed to storage: `multipart/form-data` with one or more parts named `file` or `image`',
  '(text fields `folder`, `name`, `is_public`, `expires_in`, `expires_at`, `transformations`, `tags`, `metadata` before or after the files;',
  'each once, except `name`, `transformations` and `tags`, which may repeat (another field sent twice → 400); `expires_in` (counted from when the file is stored) or `expires_at`, not both;',
  'all but `name` may go in the query instead, for every file, and one given both as a field and in the query → 400),',
  'or a raw body with `Content-Type` and optional `X-File-Name` (attributes in the query). The type is sniffed from the bytes;',
  'a declared type that disagrees is refused with 415. One file → 201 `{file, message}`; several →',
  '`{results, count, errors}` (207 when any failed, even all of them: `errors` says why for each).',
  'Names: each file is named by its part\'s filename; to rename, send one `name` field per file part — the n-th `name`',
  'names the n-th file part (any other number of `name` fields → 400).',
  '`is_public` and the expiry default to the account settings `default_is_public` / `default_expires_in`;',
  'the per-file limit is the smaller of the setting `max_upload_size_bytes` and the plan (413 `FILE_TOO_LARGE`, `details.max_bytes` = that limit).',
  'In a multipart request the first file over it stops the request: 413, and none of its files is kept.',
  '`transformations` (field or query parameter, may repeat, values `|`-separated, at most 10; e.g. `w_400,f_webp|t_thumb`)',
  'renders those derivatives eagerly through the queue (`derive` job) so a browser\'s first request is a cache hit (an `f_auto` one is made as AVIF and WebP, the formats browsers ask for; another `Accept` renders on first request); an invalid one',
  '→ 400 `INVALID_TRANSFORMATION` and nothing is stored. Only raster images can have them (another type → 400).',
  'An upload that sends nothing for `UPLOAD_IDLE_TIMEOUT` seconds is aborted with 408 `REQUEST_TIMEOUT`; a full server disk',
  'answers 507 `INSUFFICIENT_STORAGE` (507 `QUOTA_EXCEEDED` is the account\'s quota); either way nothing is kept.',
  'At most 20 file parts per request: a 21st makes the whole request a 400 `VALIDATION_ERROR` with nothing kept; so does a',
  'text field over 8 KiB, and a malformed multipart body (no or wrong boundary, no closing boundary, a malformed part header).',
  'Names lose control characters and bidi/zero-width formatting; `expires_at` must lie in the future, at most 100 years ahead.',
].join(' ');

/**
 * The HTTP answer to an upload (shared with presigned uploads): one file → 201 `{file, message}`
 * (a single refused file → its own error); several → `{results, count, errors}`, 207 when some failed.
 */
export function uploadResponse(out: UploadRun) {
  if (out.files.length + out.errors.length === 1) {
    const first = out.errors[0];
    if (first) throw first.cause;
    return { status: 201, body: { file: toFileJson(out.files[0]!, out.urlBase), message: 'File uploaded' as const } };
  }
  return {
    status: out.errors.length ? 207 : 201,
    body: {
      results: out.files.map((f) => toFileJson(f, out.urlBase)),
      count: out.files.length,
      errors: out.errors.map(({ name, error, message }) => ({ name, error, message })),
    },
  };
}

/** Bytes an upload stored (what was not charged to `upload_bytes` as it arrived is, at the end). */
export const storedBytes = (out: UploadRun) => out.files.reduce((n, f) => n + f.size, 0);

const ownerOf = (p: Principal): UploadOwner => ({ userId: p.userId, isPromoted: p.isPromoted });

export function fileRoutes(deps: AppDeps) {
  streamRequestBody(deps, '/api/files/');
  return new Elysia({ name: 'pictor.files.routes', prefix: '/api/files', detail: { tags: ['files'] } })
    .use(authGuard(deps))
    .post(
      '/',
      async ({ principal, request, query, set }) => {
        // upload_count, upload_bytes (Content-Length must fit; bytes count as they arrive) and an upload_concurrency lease (API.md §7).
        const limits = await startUploadLimits(deps, limitHeadersOf(set), principal, contentLengthOf(request));
        try {
          disableIdleTimeout(request);
          const out = await runUpload(deps, ownerOf(principal), request, query, { onBytes: limits.chargeBytes });
          const { status, body } = uploadResponse(out);
          await limits.finish(storedBytes(out));
          set.status = status;
          return body;
        } finally {
          await limits.release();
        }
      },
      {
        auth: 'files:write',
        parse: 'none',
        query: UploadQuery,
        response: { 201: t.Union([UploadedOne, UploadedMany]), 207: UploadedMany, ...errorResponses(400, 401, 403, 408, 413, 415, 429, 507) },
        detail: { summary: 'Upload files', description: UPLOAD_DESCRIPTION, requestBody: UPLOAD_REQUEST_BODY },
      },
    )
    .get('/', async ({ principal, query, request }) => {
      // `meta` values may hold commas, which Elysia's array parsing splits: read them from the URL.
      const params = new URLSearchParams(queryOf(request.url));
      return jsonTextResponse(await listFiles(deps, principal.userId, query, { tag: params.getAll('tag'), meta: params.getAll('meta') }));
    }, {
      auth: 'files:read',
      query: ListQuerySchema,
      response: { 200: FileList, ...errorResponses(400, 401, 403) },
      detail: {
        summary: 'List files',
        description: 'Keyset-paginated, newest first by default; `count` covers all pages. Filters combine (all must hold): `folder` (+`recursive`), `q`, `content_type`, `is_public`, `sha256` (the same content), `tag` (every tag given), `meta` (`key:value` or `key`). Example: `?tag=beach&meta=camera:x100v`.',
      },
    })
    .post(
      '/bulk-delete',
      async ({ principal, body }) => {
        const ids = [...new Set(body.ids)];
        // A watermark's image stays (every render using it would break): reported, the others go.
        const marks = await watermarkImages(deps.db, principal.userId);
        const deletable = ids.filter((id) => !marks.has(id));
        const deleted = await deps.db.transaction((tx) => softDeleteFiles(tx, principal.userId, deletable, new Date(deps.clock.now())));
        await forgetFiles(deps, deleted); // delivery caches on every instance forget them
        const done = new Set(deleted);
        return {
          deleted: deleted.length,
          errors: ids.filter((id) => !done.has(id)).map((id) => ({ id, error: marks.has(id) ? 'CONFLICT' : 'NOT_FOUND' })),
        };
      },
      {
        auth: 'files:delete',
        body: BulkDeleteBody,
        response: { 200: BulkDeleteResult, ...errorResponses(400, 401, 403) },
        detail: { summary: 'Delete several files', description: 'Up to 100 ids; unknown ids are reported in `errors` (`NOT_FOUND`), and so is the image of one of your watermarks (`CONFLICT`: it stays).' },
      },
    )
    .get('/:id', async ({ principal, params }) => {
      const [file, base] = await Promise.all([getOwnFileOrThrow(deps, principal.userId, params.id), urlBaseOf(deps, principal.userId)]);
      return toFileJson(file, base);
    }, {
      auth: 'files:read',
      params: IdParams,
      response: { 200: FileSchema, ...errorResponses(401, 403, 404, 410) },
      detail: { summary: 'Get a file' },
    })
    .get(
      '/:id/metadata',
      async ({ principal, params }) => getFileMetadata(deps, await getOwnFileOrThrow(deps, principal.userId, params.id), true),
      {
        auth: 'files:read',
        params: IdParams,
        response: { 200: FileMetadata, ...errorResponses(401, 403, 404, 410) },
        detail: { summary: 'File metadata', description: 'Header facts, selected EXIF (GPS for the owner only), blurhash and dominant colour.' },
      },
    )
    .patch('/:id', async ({ principal, params, body }) => {
      const [file, base] = await Promise.all([patchFile(deps, principal.userId, params.id, body), urlBaseOf(deps, principal.userId)]);
      return toFileJson(file, base);
    }, {
      auth: 'files:write',
      params: IdParams,
      body: FilePatchSchema,
      response: { 200: FileSchema, ...errorResponses(400, 401, 403, 404, 409, 410) },
      detail: { summary: 'Update a file', description: 'Rename, move, publish/unpublish, change the expiry, or replace the `tags` / `custom_metadata`. An expiry on the image of one of your watermarks is refused with 409.' },
    })
    .delete(
      '/:id',
      async ({ principal, params, set }) => {
        await refuseWatermarkDeletes(deps.db, principal.userId, [params.id]);
        const [deleted] = await deps.db.transaction((tx) => softDeleteFiles(tx, principal.userId, [params.id], new Date(deps.clock.now())));
        if (!deleted) throw notFound('File');
        await forgetFiles(deps, [deleted]); // delivery caches on every instance forget it
        return noContent();
      },
      {
        auth: 'files:delete',
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses(401, 403, 404, 409) },
        detail: { summary: 'Delete a file', description: 'The bytes are removed durably by a `purge` job (retried until storage confirms). The image of one of your watermarks (settings `watermarks`) is refused with 409: every render using it would break.' },
      },
    );
}
