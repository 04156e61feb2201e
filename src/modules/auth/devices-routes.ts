/** `/api/auth/sessions`: the account's signed-in browsers and apps, and ending one of them (devices.ts). */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound } from '../../errors';
import { noContent } from '../../http';
import { clearedCookies } from './cookies';
import { endSession, listSessions } from './devices';
import { authGuard } from './guard';

const SessionInfoSchema = t.Object(
  {
    id: t.String({ format: 'uuid' }),
    created_at: t.String({ format: 'date-time', description: 'When it signed in.' }),
    last_active_at: t.String({ format: 'date-time', description: 'Its last token refresh (an access token lives 15 minutes, so exact to that).' }),
    expires_at: t.String({ format: 'date-time', description: 'When it must sign in again at the latest.' }),
    ip: t.Nullable(t.String({ description: 'The address it signed in from.' })),
    user_agent: t.Nullable(t.String({ description: 'The browser or app it signed in with, as it named itself.' })),
    current: t.Boolean({ description: 'This request\'s own session.' }),
  },
  { title: 'SessionInfo' },
);
const SECURITY: Record<string, string[]>[] = [{ bearerJwt: [] }, { cookie: [] }];

export function deviceRoutes(deps: AppDeps) {
  const secure = deps.config.publicUrl.startsWith('https://');
  return new Elysia({ name: 'pictor.auth.devices', prefix: '/api/auth', detail: { tags: ['auth'] } })
    .use(authGuard(deps))
    .get(
      '/sessions',
      async ({ principal }) => {
        const results = await listSessions(deps, principal.userId, principal.sessionId);
        // One page holds them all (at most 200); the list shape is every list's (API.md §1).
        return { results, count: results.length, next_cursor: null };
      },
      {
        auth: 'session',
        response: { 200: t.Object({ results: t.Array(SessionInfoSchema), count: t.Integer(), next_cursor: t.Null({ description: 'Always null: one page holds every session.' }) }), ...errorResponses(401, 403) },
        detail: {
          summary: 'Signed-in sessions',
          description: 'The browsers and apps signed in to this account (not API keys), most recently active first, at most 200. Sessions only.',
          security: SECURITY,
        },
      },
    )
    .delete(
      '/sessions/:id',
      async ({ principal, params, set }) => {
        if (!(await endSession(deps, principal.userId, params.id))) throw notFound('Session');
        if (params.id === principal.sessionId) set.headers['set-cookie'] = clearedCookies(secure);
        return noContent();
      },
      {
        auth: 'session',
        params: t.Object({ id: t.String({ format: 'uuid' }) }),
        response: { 204: t.Void(), ...errorResponses(400, 401, 403, 404) },
        detail: {
          summary: 'Sign out one session',
          description: 'Ends that session at once: its refresh token stops working and its access tokens are refused. 404 for a session that is not this account\'s or has ended.',
          security: SECURITY,
        },
      },
    );
}
