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
      async ({ principal }) => {
        const rows = await listUsableInvites(deps.db, principal.userId, new Date(deps.clock.now()));
        return { results: rows.map(toInviteJson), count: rows.length, next_cursor: null };
      },
      {
        auth: 'account:read',
        response: { 200: t.Object({ results: t.Array(InviteSchema), count: t.Integer(), next_cursor: t.Null() }), ...errorResponses(401, 403, 429) },
        detail: { summary: 'My unused invite codes' },
      },
    );
}
