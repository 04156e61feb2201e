/** `/api/admin/*` (API.md §9). Non-admins get 403 FORBIDDEN; an admin's key without `admin` gets MISSING_SCOPE. */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, forbidden } from '../../errors';
import { strict } from '../auth/model';
import { authGuard, requireScope, type Principal } from '../auth/guard';
import { InviteSchema } from '../invites/routes';
import { createInvites, toInviteJson } from '../invites/service';
import { UserSchema } from '../users/model';
import { changeUser, collectStats, getUserOrThrow, listUsers, toAdminUserJson } from './service';

const DEFAULT_INVITE_TTL_S = 7 * 86400;

function requireAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw forbidden('Administrators only.');
  requireScope(principal, 'admin');
}

const AdminUser = t.Composite([UserSchema, t.Object({ is_banned: t.Boolean(), usage: t.Object({ storage_bytes: t.Integer(), files_count: t.Integer() }) })], { title: 'AdminUser' });
const IdParams = t.Object({ id: t.String({ format: 'uuid', error: 'must be a user id' }) });
const obj = <T extends Parameters<typeof t.Object>[0]>(p: T) => t.Object(p, { additionalProperties: false });

export function adminRoutes(deps: AppDeps) {
  const now = () => new Date(deps.clock.now());
  const changeOptions = { auth: true as const, params: IdParams, response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404, 409) } };
  const apply = async (principal: Principal, id: string, change: Parameters<typeof changeUser>[3]) => {
    requireAdmin(principal);
    return toAdminUserJson(await changeUser(deps, principal.userId, id, change));
  };

  return new Elysia({ name: 'pictor.admin.routes', prefix: '/api/admin', detail: { tags: ['admin'] } })
    .use(authGuard(deps))
    .get(
      '/users',
      async ({ principal, query }) => {
        requireAdmin(principal);
        return listUsers(deps, { q: query.q, limit: query.limit ?? 50, cursor: query.cursor });
      },
      {
        auth: true,
        query: t.Object({
          q: t.Optional(t.String({ maxLength: 254, description: 'Email contains' })),
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })),
          cursor: t.Optional(t.String({ maxLength: 200 })),
        }),
        response: { 200: t.Object({ results: t.Array(AdminUser), count: t.Integer(), next_cursor: t.Union([t.String(), t.Null()]) }), ...errorResponses(400, 401, 403) },
        detail: { summary: 'List users with their usage' },
      },
    )
    .post('/users/:id/ban', ({ principal, params, body }) => apply(principal, params.id, { isBanned: body.banned }), {
      ...changeOptions, ...strict(obj({ banned: t.Boolean() })), detail: { summary: 'Ban or unban a user', description: 'Banned: 403 ACCOUNT_BANNED on every call, everywhere, at once.' },
    })
    .post('/users/:id/promote', ({ principal, params, body }) => apply(principal, params.id, { isPromoted: body.promoted }), {
      ...changeOptions, ...strict(obj({ promoted: t.Boolean() })), detail: { summary: 'Promote or demote a user (plan)' },
    })
    .post('/users/:id/role', ({ principal, params, body }) => apply(principal, params.id, { role: body.role }), {
      ...changeOptions, ...strict(obj({ role: t.Union([t.Literal('user'), t.Literal('admin')]) })), detail: { summary: "Set a user's role" },
    })
    .post(
      '/users/:id/invites',
      async ({ principal, params, body, set }) => {
        requireAdmin(principal);
        await getUserOrThrow(deps, params.id);
        const ttl = body.expires_in === undefined ? DEFAULT_INVITE_TTL_S : body.expires_in;
        const rows = await createInvites(deps.db, {
          ownerId: params.id, createdBy: principal.userId, count: body.count ?? 1,
          expiresAt: ttl === null ? null : new Date(now().getTime() + ttl * 1000),
        });
        set.status = 201;
        return { results: rows.map(toInviteJson), count: rows.length };
      },
      {
        auth: true,
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
      '/stats',
      async ({ principal }) => {
        requireAdmin(principal);
        return collectStats(deps);
      },
      {
        auth: true,
        response: {
          200: t.Object(
            {
              users: t.Object({ total: t.Integer(), admins: t.Integer(), banned: t.Integer(), promoted: t.Integer() }),
              files: t.Object({ count: t.Integer(), bytes: t.Integer() }),
            },
            { additionalProperties: true, description: 'Plus sections other modules register (queue, cache).' },
          ),
          ...errorResponses(401, 403),
        },
        detail: { summary: 'Server-wide statistics' },
      },
    );
}
