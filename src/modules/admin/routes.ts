/**
 * `/api/admin/*` (API.md §9), plus moderation of any account's files with an audit trail
 * (`/files`, `/audit`, moderation.ts). Non-admins get 403 FORBIDDEN; an admin's key without
 * `admin` gets MISSING_SCOPE.
 */
import { Elysia, t } from 'elysia';
import { isForeignKeyViolation } from '../../db/errors';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound } from '../../errors';
import { noContent } from '../../http';
import { FileSchema } from '../files/model';
import { strict } from '../auth/model';
import { authGuard, type Principal } from '../auth/guard';
import { InviteSchema } from '../invites/routes';
import { createInvites, toInviteJson } from '../invites/service';
import { UserSchema } from '../users/model';
import { deleteAnyFile, listAllFiles, listAudit, viewFile } from './moderation';
import { getStats as queueStats } from '../queue/service';
import { QueueStats } from '../queue/model';
import { changeUser, collectStats, listUsers, toAdminUserJson, type StatsProvider } from './service';

const DEFAULT_INVITE_TTL_S = 7 * 86400;

const AdminUser = t.Composite([UserSchema, t.Object({ is_banned: t.Boolean(), usage: t.Object({ storage_bytes: t.Integer(), files_count: t.Integer() }) })], { title: 'AdminUser' });
const IdParams = t.Object({ id: t.String({ format: 'uuid', error: 'must be a user id' }) });
const obj = <T extends Parameters<typeof t.Object>[0]>(p: T) => t.Object(p, { additionalProperties: false });
const AdminFile = t.Composite([FileSchema, t.Object({ user_id: t.String({ format: 'uuid' }), owner_email: t.String() })], { title: 'AdminFile' });
/** As `/api/files/:id` takes them: an id that is no file's is a 404, whatever its characters. NUL bytes are refused before routing (hardening.ts). */
const FileId = t.String({ minLength: 1, maxLength: 64, error: 'must be a file id' });
const FileIdParams = t.Object({ id: FileId });
const NoNul = '^[^\\u0000]*$';
const AuditEntry = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    action: t.Union([t.Literal('file.view'), t.Literal('file.delete')]),
    actor_id: t.Nullable(t.String({ format: 'uuid', description: 'null once the admin account is deleted (`actor_email` stays).' })),
    actor_email: t.String(),
    file_id: t.String(),
    owner_id: t.Nullable(t.String({ format: 'uuid' })),
    details: t.Record(t.String(), t.Unknown(), { description: 'The file at the time: `name`, `content_type`, `size`; `via: "signed_url"` for a signed URL an admin made of it.' }),
    created_at: t.String({ format: 'date-time' }),
  },
  { title: 'AuditEntry' },
);
const PageQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })),
  cursor: t.Optional(t.String({ maxLength: 200, description: '`next_cursor` of the previous page.' })),
};

const Int = (description: string) => t.Integer({ description });
const PlanLimitsSchema = t.Object({
  max_upload_size_bytes: t.Integer({ description: 'Per-file upload limit.' }),
  storage_quota_bytes: t.Nullable(t.Integer({ description: 'null = unlimited' })),
  max_files: t.Nullable(t.Integer({ description: 'null = unlimited' })),
});

const StatsSchema = t.Object(
  {
    users: t.Object({ total: t.Integer(), admins: t.Integer(), banned: t.Integer(), promoted: t.Integer() }),
    files: t.Object({ count: t.Integer(), bytes: t.Integer() }),
    plans: t.Object({ standard: PlanLimitsSchema, promoted: PlanLimitsSchema }, { description: 'What each plan allows (promoting an account moves it to `promoted`).' }),
    queue: t.Optional(t.Nullable(QueueStats)),
    cache: t.Optional(t.Nullable(t.Object({
      lookups: Int('Derivative cache lookups since this process started.'),
      hits: Int('Of which answered from memory or disk.'),
      hit_ratio: t.Nullable(t.Number({ minimum: 0, maximum: 1, description: 'hits / lookups; null before the first lookup.' })),
      memory_bytes: t.Integer(),
      disk_bytes: t.Integer(),
    }))),
    transforms: t.Optional(t.Nullable(t.Object({ in_flight: Int('Renders running now.'), queued: Int('Renders waiting for the pool.') }))),
    traffic: t.Optional(t.Nullable(t.Object({
      minutes: t.Array(
        t.Object({
          at: t.String({ format: 'date-time', description: 'Start of the minute.' }),
          requests: t.Integer(), errors: Int('Answers with a 5xx status.'), cache_lookups: t.Integer(), cache_hits: t.Integer(),
        }),
        { description: 'The last 60 minutes, oldest first, from an in-memory ring of per-minute counters of the answering process.' },
      ),
    }))),
  },
  { additionalProperties: true, description: 'Cache, transforms and traffic describe the answering process; users, files and queue the whole server.' },
);

/** The sections this module adds to `GET /api/admin/stats` (queue, cache, transforms, traffic). */
function statsSections(deps: AppDeps): Record<string, StatsProvider> {
  const delivery = deps.delivery;
  // The ring counts every request from now on (request-done observer, registered once).
  const traffic = deps.traffic;
  return {
    queue: () => queueStats(deps.db, { userId: '', all: true }),
    cache: () => {
      const { memory, disk } = delivery.cache.stats();
      const lookups = memory.hits + memory.misses;
      const hits = memory.hits + disk.hits;
      return { lookups, hits, hit_ratio: lookups ? hits / lookups : null, memory_bytes: memory.bytes, disk_bytes: disk.bytes };
    },
    transforms: () => {
      const pool = delivery.pool.stats();
      return { in_flight: pool.in_flight, queued: pool.queued };
    },
    traffic: () => ({ minutes: traffic.lastHour() }),
  };
}

export function adminRoutes(deps: AppDeps) {
  const sections = statsSections(deps);
  const now = () => new Date(deps.clock.now());
  const changeOptions = { auth: 'admin' as const, params: IdParams, response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404, 409) } };
  const apply = async (principal: Principal, id: string, change: Parameters<typeof changeUser>[3]) =>
    toAdminUserJson(await changeUser(deps, principal.userId, id, change));

  return new Elysia({ name: 'pictor.admin.routes', prefix: '/api/admin', detail: { tags: ['admin'] } })
    .use(authGuard(deps))
    .get(
      '/users',
      async ({ query }) => {
        return listUsers(deps, { q: query.q, limit: query.limit ?? 50, cursor: query.cursor });
      },
      {
        auth: 'admin',
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 254, pattern: NoNul, description: 'Email contains' })),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })),
          cursor: t.Optional(t.String({ maxLength: 200 })),
        }),
        response: { 200: t.Object({ results: t.Array(AdminUser), count: t.Integer(), next_cursor: t.Union([t.String(), t.Null()]) }), ...errorResponses(400, 401, 403) },
        detail: { summary: 'List users with their usage' },
      },
    )
    .post('/users/:id/ban', ({ principal, params, body }) => apply(principal, params.id, { isBanned: body.banned }), {
      ...changeOptions, ...strict(obj({ banned: t.Boolean() })), detail: { summary: 'Ban or unban a user', description: 'Banned: 403 ACCOUNT_BANNED on every call, everywhere, at once. A ban also ends every session of the account, so an unban does not bring them back (the user signs in again); API keys stay, refused while banned.' },
    })
    .post('/users/:id/promote', ({ principal, params, body }) => apply(principal, params.id, { isPromoted: body.promoted }), {
      // No 409: promoting oneself, or the last admin, changes no one's access.
      ...changeOptions, response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404) }, ...strict(obj({ promoted: t.Boolean() })), detail: { summary: 'Promote or demote a user (plan)' },
    })
    .post('/users/:id/role', ({ principal, params, body }) => apply(principal, params.id, { role: body.role }), {
      ...changeOptions, ...strict(obj({ role: t.Union([t.Literal('user'), t.Literal('admin')]) })), detail: { summary: "Set a user's role" },
    })
    .post(
      '/users/:id/invites',
      async ({ principal, params, body, set }) => {
        const ttl = body.expires_in === undefined ? DEFAULT_INVITE_TTL_S : body.expires_in;
        const rows = await createInvites(deps.db, {
          ownerId: params.id, createdBy: principal.userId, count: body.count ?? 1,
          expiresAt: ttl === null ? null : new Date(now().getTime() + ttl * 1000),
        }).catch((err: unknown) => {
          // No such account (the foreign key says so in the same statement: a check before it raced with deletions).
          if (isForeignKeyViolation(err)) throw notFound('User');
          throw err;
        });
        set.status = 201;
        return { results: rows.map(toInviteJson), count: rows.length };
      },
      {
        auth: 'admin',
        params: IdParams,
        ...strict(obj({
          count: t.Optional(t.Integer({ minimum: 1, maximum: 50 })),
          expires_in: t.Optional(t.Union([t.Integer({ minimum: 60, maximum: 365 * 86400 }), t.Null()], { description: 'Seconds (default 7 days); null = never.' })),
        })),
        response: { 201: t.Object({ results: t.Array(InviteSchema), count: t.Integer() }), ...errorResponses(400, 401, 403, 404) },
        detail: { summary: 'Create invite codes for a user' },
      },
    )
    .get(
      '/files',
      async ({ query }) => {
        return listAllFiles(deps, query);
      },
      {
        auth: 'admin',
        query: t.Object({
          user_id: t.Optional(t.String({ format: 'uuid', error: 'must be a user id', description: 'Only this account\'s files.' })),
          q: t.Optional(t.String({ maxLength: 255, pattern: NoNul, description: 'File name contains (case-insensitive).' })),
          ...PageQuery,
        }),
        response: { 200: t.Object({ results: t.Array(AdminFile), count: t.Integer(), next_cursor: t.Union([t.String(), t.Null()]) }), ...errorResponses(400, 401, 403) },
        detail: { summary: 'List the files of every account', description: 'Moderation. Live files, newest first, keyset-paginated; `count` covers all pages. Listing is not audited.' },
      },
    )
    .get(
      '/files/:id',
      async ({ principal, params }) => {
        return viewFile(deps, principal, params.id);
      },
      {
        auth: 'admin',
        params: FileIdParams,
        response: { 200: AdminFile, ...errorResponses(401, 403, 404) },
        detail: { summary: "View any account's file", description: 'Moderation. Recorded in the audit trail (`file.view`).' },
      },
    )
    .delete(
      '/files/:id',
      async ({ principal, params }) => {
        await deleteAnyFile(deps, principal, params.id);
        return noContent();
      },
      {
        auth: 'admin',
        params: FileIdParams,
        response: { 204: t.Void(), ...errorResponses(401, 403, 404) },
        detail: {
          summary: "Delete any account's file",
          description: "Moderation. The owner's delete: usage released at once, bytes removed durably by a `purge` job. Recorded in the audit trail (`file.delete`).",
        },
      },
    )
    .get(
      '/audit',
      async ({ query }) => {
        return listAudit(deps, query);
      },
      {
        auth: 'admin',
        query: t.Object({
          file_id: t.Optional(FileId),
          actor_id: t.Optional(t.String({ format: 'uuid', error: 'must be a user id' })),
          action: t.Optional(t.Union([t.Literal('file.view'), t.Literal('file.delete')])),
          ...PageQuery,
        }),
        response: { 200: t.Object({ results: t.Array(AuditEntry), count: t.Integer({ description: 'Entries the filters match, over all pages.' }), next_cursor: t.Union([t.String(), t.Null()]) }), ...errorResponses(400, 401, 403) },
        detail: { summary: 'The moderation audit trail', description: "Who viewed or deleted which account's file, and when; newest first." },
      },
    )
    .get(
      '/stats',
      async () => {
        return collectStats(deps, sections);
      },
      {
        auth: 'admin',
        response: {
          200: StatsSchema,
          ...errorResponses(401, 403),
        },
        detail: { summary: 'Server-wide statistics', description: 'Users, files and jobs of the server; derivative cache hit ratio, transforms in flight and the last hour of requests and cache hits per minute (this process).' },
      },
    );
}
