/** `GET /api/invites` (API.md §3): the caller's invite codes that can still be used. */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { authGuard } from '../auth/guard';
import { listUsableInvites, toInviteJson } from './service';

export const InviteSchema = t.Object(
  { code: t.String({ examples: ['INV-3fG7hJ9kL2mN4pQ6'] }), created_at: t.String(), expires_at: t.Union([t.String(), t.Null()]) },
  { title: 'Invite' },
);

export function inviteRoutes(deps: AppDeps) {
  return new Elysia({ name: 'pictor.invites.routes', prefix: '/api', detail: { tags: ['account'] } })
    .use(authGuard(deps))
    .get(
      '/invites',
      async ({ principal, query }) => {
        const page = await listUsableInvites(deps.db, principal.userId, new Date(deps.clock.now()), { limit: query.limit ?? 500, cursor: query.cursor });
        return { results: page.rows.map(toInviteJson), count: page.count, next_cursor: page.next };
      },
      {
        auth: 'account:read',
        query: t.Object({
          limit: t.Optional(t.Integer({ minimum: 1, maximum: 500, description: 'Codes per page (default 500).' })),
          cursor: t.Optional(t.String({ maxLength: 200, description: 'The `next_cursor` of the previous page.' })),
        }),
        response: {
          200: t.Object({
            results: t.Array(InviteSchema),
            count: t.Integer({ description: 'Usable codes in all, every page.' }),
            next_cursor: t.Union([t.String(), t.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
        detail: { summary: 'My unused invite codes', description: 'Newest first, paged by `limit` and `cursor`.' },
      },
    );
}
