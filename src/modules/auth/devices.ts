/**
 * The account's signed-in sessions as its owner sees them (`GET /api/auth/sessions`): each browser
 * or app that signed in, where from, and when it was last active; and the end of one of them
 * (`DELETE /api/auth/sessions/:id`), as GitHub and Google list "your devices".
 */
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { refreshTokens, sessions } from './table';
import { revokeSession } from './sessions';

export interface SessionInfo {
  id: string;
  created_at: string;
  last_active_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/**
 * Live sessions, most recently active first. A session is live while it is not revoked, its
 * family has not expired and it holds an unexpired refresh token that was not used yet (a browser
 * idle past the refresh token's lifetime is signed out, whatever the family's lifetime).
 * "Last active" is its last refresh: an access token lives 15 minutes, so it is exact to that.
 */
export async function listSessions(deps: AppDeps, userId: string, currentId: string | undefined): Promise<SessionInfo[]> {
  const now = new Date(deps.clock.now());
  const lastRefresh = sql`(select max(${refreshTokens.createdAt}) from ${refreshTokens} where ${refreshTokens.familyId} = ${sessions.id})`.mapWith(sessions.createdAt);
  const holdsToken = sql`exists (select 1 from ${refreshTokens} where ${refreshTokens.familyId} = ${sessions.id} and ${refreshTokens.usedAt} is null and ${refreshTokens.expiresAt} > ${now.toISOString()}::timestamptz)`;
  const rows = await deps.db
    .select({ id: sessions.id, createdAt: sessions.createdAt, expiresAt: sessions.expiresAt, ip: sessions.ip, userAgent: sessions.userAgent, lastRefresh })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now), holdsToken))
    .orderBy(desc(lastRefresh), desc(sessions.createdAt))
    .limit(200);
  return rows.map((r) => ({
    id: r.id,
    created_at: r.createdAt.toISOString(),
    last_active_at: (r.lastRefresh ?? r.createdAt).toISOString(),
    expires_at: r.expiresAt.toISOString(),
    ip: r.ip,
    user_agent: r.userAgent,
    current: r.id === currentId,
  }));
}

/** Ends one of the user's live sessions; false when it is not theirs or already ended. */
export async function endSession(deps: AppDeps, userId: string, sessionId: string): Promise<boolean> {
  const [row] = await deps.db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date(deps.clock.now()))))
    .limit(1);
  if (!row) return false;
  await revokeSession(deps, sessionId);
  return true;
}
