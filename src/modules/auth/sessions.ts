/**
 * Sessions and refresh-token rotation (API.md §2).
 *
 * A session is a refresh-token family with an absolute 30-day lifetime. `refresh` marks the
 * presented token used with a guarded UPDATE (`where used_at is null`) inside a transaction,
 * so among concurrent refreshes with one token exactly one rotates it. The others (two tabs
 * refreshing at once) arrive within the reuse interval (`REFRESH_REUSE_INTERVAL`, 30 s) of
 * that rotation and get the family's current token back: successors are derived from their
 * predecessor under the server secret (`deriveRefreshToken`), so it is recomputed, never
 * stored. A rotated token used after the interval is a replay and revokes the whole family
 * (`TOKEN_REUSED`) — a stolen token and its legitimate twin cannot both live on. (API.md says
 * exactly one concurrent refresh wins; the interval is the deliberate deviation, what OAuth 2.1
 * servers such as Auth0 and Okta call a reuse interval or grace period.)
 */
import { and, eq, gt, inArray, isNull, notExists, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { accountBanned, tokenReused, unauthorized } from '../../errors';
import { sha256Hex } from '../../lib/random';
import { accountDeletions } from '../account/table';
import { users, type UserRow } from '../users/table';
import { emailTokens, refreshTokens, sessions } from './table';
import {
  ACCESS_TTL_S, FAMILY_TTL_S, REFRESH_TTL_S, deriveRefreshToken, generateCsrfToken, generateRefreshToken, jwtKey, signAccessToken,
} from './tokens';

/** How far along a chain of rotations a reuse may walk to find the live token (each step is one rotation in the interval). */
const MAX_REUSE_STEPS = 8;

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

/** Signs an access token for a refresh token the caller has stored (or found). */
async function sessionFor(
  deps: AppDeps, user: Pick<UserRow, 'id' | 'tokenVersion'>, sessionId: string, refreshToken: string, refreshExpiresAt: number,
): Promise<IssuedSession> {
  const now = deps.clock.now();
  const accessToken = await signAccessToken(jwtKey(deps.secrets.jwtSecret), { userId: user.id, tokenVersion: user.tokenVersion, sessionId }, now);
  return {
    sessionId, accessToken, refreshToken, csrfToken: generateCsrfToken(),
    accessExpiresAt: (Math.floor(now / 1000) + ACCESS_TTL_S) * 1000, refreshExpiresAt,
  };
}

async function issueTokens(
  deps: AppDeps,
  tx: Pick<AppDeps['db'], 'insert'>,
  user: Pick<UserRow, 'id' | 'tokenVersion'>,
  session: { id: string; expiresAt: Date },
  refreshToken = generateRefreshToken(),
): Promise<IssuedSession> {
  const refreshExpiresAt = Math.min(deps.clock.now() + REFRESH_TTL_S * 1000, session.expiresAt.getTime());
  await tx.insert(refreshTokens).values({
    familyId: session.id, userId: user.id, tokenHash: await sha256Hex(refreshToken), expiresAt: new Date(refreshExpiresAt),
  });
  return sessionFor(deps, user, session.id, refreshToken, refreshExpiresAt);
}

/** The session and user of a family, if it may still refresh; throws 401/403 when it may not. */
async function liveFamily(tx: Pick<AppDeps['db'], 'select'>, familyId: string, now: Date) {
  const [row] = await tx
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, familyId))
    .limit(1);
  if (!row || row.session.revokedAt || row.session.expiresAt <= now) throw unauthorized('This session has ended; sign in again.');
  if (row.user.isBanned) throw accountBanned();
  return row;
}

/**
 * A rotated token used again within the reuse interval: the family's current token, found by
 * deriving successors from the presented one until an unused, unexpired row answers (each
 * step is a rotation that happened meanwhile). Null when the chain leads nowhere.
 */
async function currentOfFamily(deps: AppDeps, presented: string, now: Date): Promise<IssuedSession | null> {
  let token = presented;
  for (let step = 0; step < MAX_REUSE_STEPS; step++) {
    token = deriveRefreshToken(deps.secrets.jwtSecret, token);
    const [row] = await deps.db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, await sha256Hex(token))).limit(1);
    if (!row || row.expiresAt <= now) return null;
    if (row.usedAt) continue;
    const { user } = await liveFamily(deps.db, row.familyId, now);
    return sessionFor(deps, user, row.familyId, token, row.expiresAt.getTime());
  }
  return null;
}

/** Starts a new session (login, registration, password change) for a user allowed to sign in. */
export async function createSession(deps: AppDeps, user: Pick<UserRow, 'id' | 'tokenVersion'>, meta: ClientMeta): Promise<IssuedSession> {
  const expiresAt = new Date(deps.clock.now() + FAMILY_TTL_S * 1000);
  return deps.db.transaction(async (tx) => {
    // The account may be on its way out (DELETE /api/account, or its job removing the row): no
    // new session then. The key-share lock holds the row until this session is in.
    const [alive] = await tx.select({ id: users.id }).from(users).where(and(
      eq(users.id, user.id),
      notExists(tx.select({ id: accountDeletions.id }).from(accountDeletions)
        .where(and(eq(accountDeletions.userId, user.id), inArray(accountDeletions.status, ['pending', 'running'])))),
    )).for('key share');
    if (!alive) throw unauthorized('This account is being deleted or no longer exists.');
    const [session] = await tx
      .insert(sessions)
      .values({ userId: user.id, expiresAt, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 512) ?? null })
      .returning({ id: sessions.id, expiresAt: sessions.expiresAt });
    if (!session) throw new Error('session insert returned no row');
    return issueTokens(deps, tx, user, session);
  });
}

/**
 * Rotates a refresh token: exactly one caller per token stores a successor; a reuse within the
 * interval gets the family's current token; a reuse after it revokes the family.
 */
export async function refreshSession(deps: AppDeps, presented: string): Promise<IssuedSession> {
  const hash = await sha256Hex(presented);
  const now = new Date(deps.clock.now());
  const successor = deriveRefreshToken(deps.secrets.jwtSecret, presented);
  const outcome = await deps.db.transaction(async (tx) => {
    const [used] = await tx
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.tokenHash, hash), isNull(refreshTokens.usedAt), gt(refreshTokens.expiresAt, now)))
      .returning({ familyId: refreshTokens.familyId, userId: refreshTokens.userId });
    if (!used) return null;
    const row = await liveFamily(tx, used.familyId, now);
    return issueTokens(deps, tx, row.user, row.session, successor);
  });
  if (outcome) return outcome;

  // No live, unused token with that hash: a replay of a rotated token, or junk/expired.
  const [old] = await deps.db
    .select({ familyId: refreshTokens.familyId, usedAt: refreshTokens.usedAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, hash))
    .limit(1);
  if (old?.usedAt && now.getTime() - old.usedAt.getTime() <= deps.config.refreshReuseIntervalMs) {
    const current = await currentOfFamily(deps, presented, now);
    if (current) {
      deps.log.debug({ session_id: old.familyId }, 'rotated refresh token reused within the reuse interval');
      return current;
    }
  }
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
  await deps.credentials.invalidateSession(sessionId);
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
    // A new password also cancels every reset link still open: an older mail (a shared inbox, a
    // forwarded copy) could otherwise set the password again after its owner took it back.
    if (extra.passwordHash !== undefined) {
      await tx.update(emailTokens).set({ usedAt: now }).where(and(eq(emailTokens.userId, userId), eq(emailTokens.kind, 'reset'), isNull(emailTokens.usedAt)));
    }
    return tx
      .update(users)
      .set({ ...extra, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: now })
      .where(eq(users.id, userId))
      .returning({ tokenVersion: users.tokenVersion });
  });
  await deps.credentials.invalidateUser(userId);
  return user?.tokenVersion ?? 0;
}
