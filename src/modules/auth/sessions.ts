/**
 * Sessions and refresh-token rotation (API.md §2).
 *
 * A session is a refresh-token family with an absolute 30-day lifetime. `refresh` marks the
 * presented token used with a guarded UPDATE (`where used_at is null`) inside a transaction,
 * so among concurrent refreshes with one token exactly one gets a row back; everyone else,
 * and any later replay of a rotated token, finds `used_at` set, which revokes the whole
 * family (`TOKEN_REUSED`) — a stolen token and its legitimate twin cannot both live on.
 */
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { accountBanned, tokenReused, unauthorized } from '../../errors';
import { sha256Hex } from '../../lib/random';
import { users, type UserRow } from '../users/table';
import { credentialResolver } from './guard';
import { refreshTokens, sessions } from './table';
import {
  ACCESS_TTL_S, FAMILY_TTL_S, REFRESH_TTL_S, generateCsrfToken, generateRefreshToken, jwtKey, signAccessToken,
} from './tokens';

export interface ClientMeta {
  ip: string | null;
  userAgent: string | null;
}

export interface IssuedSession {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  csrfToken: string;
  /** Epoch ms when the access token expires. */
  accessExpiresAt: number;
  /** Epoch ms when the refresh token expires (≤ the family's absolute end). */
  refreshExpiresAt: number;
}

/** The `session` object of API.md §2. */
export function toSessionJson(s: IssuedSession) {
  return {
    access_token: s.accessToken,
    refresh_token: s.refreshToken,
    // OAuth 2 semantics: the token's lifetime (its `exp` − `iat`), so a fresh token says 900, not 899.
    expires_in: ACCESS_TTL_S,
    expires_at: new Date(s.accessExpiresAt).toISOString(),
    token_type: 'bearer' as const,
  };
}

async function issueTokens(
  deps: AppDeps,
  tx: Pick<AppDeps['db'], 'insert'>,
  user: Pick<UserRow, 'id' | 'tokenVersion'>,
  session: { id: string; expiresAt: Date },
): Promise<IssuedSession> {
  const now = deps.clock.now();
  const refreshToken = generateRefreshToken();
  const refreshExpiresAt = Math.min(now + REFRESH_TTL_S * 1000, session.expiresAt.getTime());
  await tx.insert(refreshTokens).values({
    familyId: session.id, userId: user.id, tokenHash: await sha256Hex(refreshToken), expiresAt: new Date(refreshExpiresAt),
  });
  const accessToken = await signAccessToken(jwtKey(deps.secrets.jwtSecret), { userId: user.id, tokenVersion: user.tokenVersion, sessionId: session.id }, now);
  return {
    sessionId: session.id, accessToken, refreshToken, csrfToken: generateCsrfToken(),
    accessExpiresAt: (Math.floor(now / 1000) + ACCESS_TTL_S) * 1000, refreshExpiresAt,
  };
}

/** Starts a new session (login, registration, password change) for a user allowed to sign in. */
export async function createSession(deps: AppDeps, user: Pick<UserRow, 'id' | 'tokenVersion'>, meta: ClientMeta): Promise<IssuedSession> {
  const expiresAt = new Date(deps.clock.now() + FAMILY_TTL_S * 1000);
  return deps.db.transaction(async (tx) => {
    const [session] = await tx
      .insert(sessions)
      .values({ userId: user.id, expiresAt, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 512) ?? null })
      .returning({ id: sessions.id, expiresAt: sessions.expiresAt });
    if (!session) throw new Error('session insert returned no row');
    return issueTokens(deps, tx, user, session);
  });
}

/** Rotates a refresh token: exactly one caller per token gets a new session pair. */
export async function refreshSession(deps: AppDeps, presented: string): Promise<IssuedSession> {
  const hash = await sha256Hex(presented);
  const now = new Date(deps.clock.now());
  const outcome = await deps.db.transaction(async (tx) => {
    const [used] = await tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.tokenHash, hash), isNull(refreshTokens.usedAt), gt(refreshTokens.expiresAt, now)))
      .returning({ familyId: refreshTokens.familyId, userId: refreshTokens.userId });
    if (!used) return null;
    const [row] = await tx
      .select({ session: sessions, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.id, used.familyId))
      .limit(1);
    if (!row || row.session.revokedAt || row.session.expiresAt <= now) throw unauthorized('This session has ended; sign in again.');
    if (row.user.isBanned) throw accountBanned();
    return issueTokens(deps, tx, row.user, row.session);
  });
  if (outcome) return outcome;

  // No live, unused token with that hash: a replay of a rotated token, or junk/expired.
  const [old] = await deps.db
    .select({ familyId: refreshTokens.familyId, usedAt: refreshTokens.usedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hash))
    .limit(1);
  if (old?.usedAt) {
    await revokeSession(deps, old.familyId);
    deps.log.warn({ session_id: old.familyId }, 'refresh token replayed; session revoked');
    throw tokenReused();
  }
  throw unauthorized('Invalid or expired refresh token.');
}

/** Ends one session everywhere: its refresh tokens stop working and its access tokens are refused. */
export async function revokeSession(deps: AppDeps, sessionId: string): Promise<void> {
  await deps.db
    .update(sessions)
    .set({ revokedAt: new Date(deps.clock.now()) })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  await credentialResolver(deps).invalidateSession(sessionId);
}

/** The session a refresh token belongs to (for logout by refresh token); null when unknown. */
export async function sessionOfRefreshToken(deps: AppDeps, presented: string): Promise<{ sessionId: string; userId: string } | null> {
  const [row] = await deps.db
    .select({ sessionId: refreshTokens.familyId, userId: refreshTokens.userId })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, await sha256Hex(presented)))
    .limit(1);
  return row ?? null;
}

/**
 * Ends every session of a user and invalidates every live access token (token version bump),
 * on every instance. Used by logout-all, password change and password reset.
 */
export async function revokeAllSessions(deps: AppDeps, userId: string, extra: Partial<Pick<UserRow, 'passwordHash' | 'emailVerified'>> = {}): Promise<number> {
  const now = new Date(deps.clock.now());
  const [user] = await deps.db.transaction(async (tx) => {
    await tx.update(sessions).set({ revokedAt: now }).where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    return tx
      .update(users)
      .set({ ...extra, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now })
      .where(eq(users.id, userId))
      .returning({ tokenVersion: users.tokenVersion });
  });
  await credentialResolver(deps).invalidateUser(userId);
  return user?.tokenVersion ?? 0;
}
