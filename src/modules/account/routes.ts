/**
 * The account's whole life (issue #25): export as a ZIP (`POST /api/account/export`, status,
 * single-use signed download) and deletion (`DELETE /api/account`, status by the deletion's id).
 * Admins do both for any account under `/api/admin/users/:id/…`. Work happens in the durable
 * queue (`account_export`, `account_delete`; jobs.ts).
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, unauthorized, validationError } from '../../errors';
import { headResponse } from '../../http';
import { binaryResponse } from '../../openapi-contract';
import { verifyPassword } from '../../platform/password';
import { actsAsAdmin, authGuard } from '../auth/guard';
import { strict } from '../auth/model';
import { sessions } from '../auth/table';
import { enforceIpLimit } from '../limits/plugin';
import { users } from '../users/table';
import { getDeletion, requestDeletion, toDeletionJson } from './deletion';
import { getExport, listExports, requestExport, toExportJson } from './export';
import { openExportDownload } from './export-download';

/** A session this young may delete its account without the password (the owner just proved it by logging in). */
export const FRESH_SESSION_MS = 10 * 60_000;

const Iso = t.String({ format: 'date-time' });
const ExportSchema = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    user_id: t.String({ format: 'uuid' }),
    status: t.Union([t.Literal('pending'), t.Literal('running'), t.Literal('ready'), t.Literal('downloaded'), t.Literal('failed'), t.Literal('cancelled')], {
      description: '`ready`: `download_url` works once; `downloaded`: taken (and its archive removed); `failed` or `cancelled`: its job failed for good, or was cancelled or deleted, with the reason in `error` (a new export may start at once).',
    }),
    job_id: t.Union([t.String({ format: 'uuid' }), t.Null()], { description: 'The `account_export` job (GET /api/queue/jobs).' }),
    size: t.Union([t.Integer(), t.Null()], { description: 'Bytes of the ZIP, once built.' }),
    files_count: t.Union([t.Integer(), t.Null()]),
    error: t.Union([t.String(), t.Null()]),
    created_at: Iso,
    finished_at: t.Union([Iso, t.Null()]),
    downloaded_at: t.Union([Iso, t.Null()]),
    expires_at: t.String({ format: 'date-time', description: 'The archive and its link are removed after this.' }),
    download_url: t.Union([t.String(), t.Null()], { description: 'Signed, single-use link to the ZIP while `ready`; no credentials needed.' }),
  },
  { title: 'AccountExport' },
);
const DeletionSchema = t.Object(
  {
    id: t.String({ format: 'uuid', description: 'Also the capability to read this status: keep it.' }),
    user_id: t.String({ format: 'uuid' }),
    status: t.Union([t.Literal('pending'), t.Literal('running'), t.Literal('completed'), t.Literal('failed')]),
    job_id: t.Union([t.String({ format: 'uuid' }), t.Null()]),
    error: t.Union([t.String(), t.Null()]),
    removed: t.Union([t.Record(t.String(), t.Integer()), t.Null()], { description: 'What was removed so far, by kind (counts grow while `running`; final once `completed`).' }),
    created_at: Iso,
    finished_at: t.Union([Iso, t.Null()]),
  },
  { title: 'AccountDeletion' },
);
const Id = t.Object({ id: t.String({ format: 'uuid' }) });
const DeleteBody = t.Object(
  { password: t.Optional(t.String({ maxLength: 1024, description: 'Required unless the caller\'s session began less than 10 minutes ago.' })) },
  { additionalProperties: false },
);

/** Password re-entry, or a session (JWT or cookie) that began in the last `FRESH_SESSION_MS`. */
async function confirmOwner(deps: AppDeps, principal: { userId: string; sessionId?: string }, password: string | undefined): Promise<void> {
  if (password !== undefined) {
    const [u] = await deps.db.select({ hash: users.passwordHash }).from(users).where(eq(users.id, principal.userId));
    if (!u) throw unauthorized();
    if (!(await verifyPassword(password, u.hash))) {
      throw validationError('The password is incorrect.', [{ path: '/password', message: 'is incorrect' }]);
    }
    return;
  }
  if (principal.sessionId) {
    const [fresh] = await deps.db.select({ id: sessions.id }).from(sessions).where(and(
      eq(sessions.id, principal.sessionId), isNull(sessions.revokedAt), gt(sessions.createdAt, new Date(deps.clock.now() - FRESH_SESSION_MS)),
    ));
    if (fresh) return;
  }
  throw validationError('Confirm with your password (or from a session begun in the last 10 minutes).', [{ path: '/password', message: 'is required' }]);
}

/** The two parameters of a `download_url`: one sentence naming those a cut or hand-typed link lacks. */
function requireLinkParams(q: { expires?: number; signature?: string }): { expires: number; signature: string } {
  const missing = (['expires', 'signature'] as const).filter((k) => q[k] === undefined);
  if (q.expires === undefined || q.signature === undefined) {
    throw validationError(
      `This download link lacks ${missing.join(' and ')}: use the export's download_url whole (GET /api/account/exports/:id gives it).`,
      missing.map((k) => ({ path: `/${k}`, message: 'is required (it comes with download_url)', in: 'query' })),
    );
  }
  return { expires: q.expires, signature: q.signature };
}

export function accountLifeRoutes(deps: AppDeps) {
  const exportResponses = { 202: ExportSchema, ...errorResponses(401, 403, 404, 409, 429) };
  return new Elysia({ name: 'pictor.account-life.routes', prefix: '/api', detail: { tags: ['account'] } })
    .get(
      '/account/exports/:id/download',
      async ({ params, query, request }) => {
        const { expires, signature } = requireLinkParams(query);
        const head = request.method === 'HEAD';
        const d = await openExportDownload(deps, params.id, expires, signature, {
          head, range: request.headers.get('range'), ifRange: request.headers.get('if-range'),
        });
        return head ? headResponse(request, d.status, d.headers, d.length) : new Response(d.body, { status: d.status, headers: d.headers });
      },
      {
        params: Id,
        // Both required: checked in the handler, so a cut link gets one sentence naming what it lacks.
        query: t.Object({
          expires: t.Optional(t.Integer({ description: 'Unix seconds, from `download_url` (required).' })),
          signature: t.Optional(t.String({ maxLength: 64, description: 'From `download_url` (required).' })),
        }),
        response: {
          200: binaryResponse('The ZIP: `manifest.json` and every original under `files/`.', ['application/zip']),
          206: binaryResponse('A byte range of the ZIP (`Range`, to resume a download).', ['application/zip']),
          ...errorResponses(400, 403, 410, 416, 429),
        },
        detail: {
          summary: 'Download an export (once)',
          description: 'The signed link of `download_url`; no credentials. The link is spent (and the archive removed) once a response has sent the archive\'s last byte; any later request is 410. `HEAD`, a download cut off and a `Range` short of the end leave it usable until it expires, so a broken download resumes with `Range: bytes=N-` (206; `If-Range` with the `ETag` or `Last-Modified`). A wrong signature is 403 `INVALID_SIGNATURE`.',
          security: [],
        },
      },
    )
    .get('/account/deletions/:id', async ({ params }) => toDeletionJson(await getDeletion(deps, params.id)), {
      params: Id,
      response: { 200: DeletionSchema, ...errorResponses(404, 429) },
      detail: {
        summary: 'Status of an account deletion',
        description: 'No credentials (the account\'s are gone): the deletion\'s random id is the capability. `completed` once no row, object or derivative of the account remains.',
        security: [],
      },
    })
    .use(authGuard(deps))
    .post('/account/export', async ({ principal, set }) => {
      set.status = 202;
      return toExportJson(deps, await requestExport(deps, principal.userId, principal.userId));
    }, {
      auth: 'account:write',
      response: exportResponses,
      detail: {
        summary: 'Export the account as a ZIP',
        description: 'Builds, through the job queue, a ZIP of every original and a `manifest.json` (account, settings, folders, files with sha256, API keys\' metadata without secrets), streamed into storage. Poll `GET /api/account/exports/:id` until `ready`, then fetch `download_url` once (valid 24 h). 409 while another export of the account is being built or is ready and not yet downloaded (one archive at a time), or while the account is being deleted.',
      },
    })
    .get('/account/exports', async ({ principal, query }) => {
      const page = await listExports(deps, principal.userId, query);
      return { results: page.results.map((e) => toExportJson(deps, e)), count: page.count, next_cursor: page.nextCursor };
    }, {
      auth: 'account:read',
      query: t.Object({
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50 })),
        cursor: t.Optional(t.String({ maxLength: 200, description: '`next_cursor` of the previous page.' })),
      }),
      response: {
        200: t.Object({ results: t.Array(ExportSchema), count: t.Integer({ description: 'Every export of the account, all pages.' }), next_cursor: t.Nullable(t.String()) }),
        ...errorResponses(400, 401, 403, 429),
      },
      detail: { summary: 'The account\'s exports', description: 'Newest first; keyset pagination with `limit` (1–200, default 50) and `cursor`.' },
    })
    .get('/account/exports/:id', async ({ principal, params }) => toExportJson(deps, await getExport(deps, params.id, actsAsAdmin(principal) ? null : principal.userId)), {
      auth: 'account:read',
      params: Id,
      response: { 200: ExportSchema, ...errorResponses(401, 403, 404, 429) },
      detail: { summary: 'Status of an export', description: 'Your own exports; an admin calling with the `admin` scope sees any.' },
    })
    .delete('/account', async ({ principal, body, request, set }) => {
      // Each wrong password is a guess: limited as change-password is (a leaked API key with
      // account:write could otherwise try ~1 200 a minute under the API's own limit).
      if (body?.password !== undefined) await enforceIpLimit(deps, request, set, 'sensitive');
      await confirmOwner(deps, principal, body?.password);
      set.status = 202;
      return toDeletionJson(await requestDeletion(deps, principal.userId, principal.userId));
    }, {
      auth: 'account:write',
      ...strict(DeleteBody),
      response: { 202: DeletionSchema, ...errorResponses(400, 401, 403, 404, 409, 429) },
      detail: {
        summary: 'Delete the account',
        description: 'Needs `password`, unless the session began in the last 10 minutes; a request with a password counts in the `sensitive` limit per client IP (`RATE_LIMIT_SENSITIVE`), as change-password does. The last administrator cannot be deleted (409). Every session and API key stops working at once; the `account_delete` job then removes files (bytes other accounts share stay; derivatives of the rest go), keys, sessions, logs, jobs and the account. Poll `GET /api/account/deletions/:id` (no credentials) until `completed`.',
      },
    })
    .post('/admin/users/:id/export', async ({ principal, params, set }) => {
      set.status = 202;
      return toExportJson(deps, await requestExport(deps, params.id, principal.userId));
    }, {
      auth: 'admin',
      params: Id,
      response: exportResponses,
      detail: { tags: ['admin'], summary: 'Export an account (admin)', description: 'As `POST /api/account/export`, for any account; the admin polls `GET /api/account/exports/:id` and downloads it.' },
    })
    .post('/admin/users/:id/deletion', async ({ principal, params, set }) => {
      set.status = 202;
      return toDeletionJson(await requestDeletion(deps, params.id, principal.userId));
    }, {
      auth: 'admin',
      params: Id,
      response: { 202: DeletionSchema, ...errorResponses(401, 403, 404, 409, 429) },
      detail: { tags: ['admin'], summary: 'Delete an account (admin)', description: 'As `DELETE /api/account`, for any account, without its password. The last administrator cannot be deleted (409).' },
    });
}
