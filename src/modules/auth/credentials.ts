/**
 * Turns a request's credentials into a `Principal`, without a database round trip when warm.
 *
 * - API keys (`Authorization: Bearer pk_…` or `X-API-Key`): SHA-256 of the key → cached key row.
 * - Access JWTs (`Authorization: Bearer <jwt>`) and the `pictor_access` cookie: verified
 *   locally; the user (ban, role, token version) and the session (revoked?) come from caches.
 *   Cookie-authenticated mutating requests must pass the double-submit CSRF check.
 *
 * Caches are per process. Every change that must bite at once (key revoked or edited, user
 * banned/promoted/role changed/token version bumped, session revoked) goes through
 * `invalidate*`, which drops the entry here and broadcasts on `deps.bus` so every other
 * instance drops it too (Redis pub/sub or Postgres NOTIFY, milliseconds). The TTL is only a
 * safety net for a lost message. A load racing an invalidation is not cached (generation check).
 */
import { and, eq, isNull } from 'drizzle-orm';
import { countBoundedLru } from '../../lib/lru';
import { createHash } from 'node:crypto';
import type { CoreDeps } from '../../deps';
import { accountBanned, AppError, csrfInvalid } from '../../errors';
import { isScope, SCOPES, type Scope } from '../keys/scopes';
import { apiKeys } from '../keys/table';
import { users, type UserRow } from '../users/table';
import { ACCESS_COOKIE, checkCsrf, readCookie } from './cookies';
import type { Principal } from './guard';
import { sessions } from './table';
import { jwtKey, looksLikeJwt, verifyAccessToken } from './tokens';
import { createKeyLastUsedWriter } from './key-last-used';

/** How long an entry lives when no invalidation arrives (a safety net, not the mechanism). */
const CACHE_TTL_MS = 30_000;
const INVALIDATION_TOPIC = 'auth_invalidate';

/** What the caches keep of a user: everything the guard and `GET /api/profile` need. */
export type CachedUser = Pick<
  UserRow,
  'id' | 'email' | 'role' | 'isPromoted' | 'isBanned' | 'emailVerified' | 'tokenVersion' | 'createdAt' | 'updatedAt'
>;

interface CachedKey {
  id: string;
  userId: string;
  prefix: string;
  scopes: Scope[];
  expiresAt: number | null;
  /** The principal built for `user`, reused while that user entry is current. */
  memo?: { user: CachedUser; principal: Principal };
}

type Invalidation = { kind: 'user' | 'key' | 'session'; id: string };

const ALL_USER_SCOPES = SCOPES.filter((s) => s !== 'admin');

/** The credential of `Authorization: Bearer <credential>`; the scheme's name is case-insensitive (RFC 9110 §11.1: `bearer` was refused). */
export function bearerCredential(request: Request): string | null {
  const m = /^bearer\s+(\S.*)$/i.exec(request.headers.get('authorization') ?? '');
  return m ? (m[1] as string).trim() : null;
}

/** The API key in a request, if it carries one (either header). */
export function extractApiKey(request: Request): string | null {
  const header = request.headers.get('x-api-key');
  if (header?.startsWith('pk_')) return header.trim();
  const bearer = bearerCredential(request);
  return bearer?.startsWith('pk_') ? bearer : null;
}

/** A sentinel for "looked up, does not exist", so bad credentials are cached too. */
const MISSING = Symbol('missing');
type Maybe<T> = T | typeof MISSING;

/** A TTL LRU whose loads are dropped when an invalidation happened while they ran. */
function createLoadingCache<V extends object>(max: number, load: (id: string) => Promise<V | null>) {
  const cache = countBoundedLru<string, { v: Maybe<V> }>(max, { ttl: CACHE_TTL_MS });
  let generation = 0;
  return {
    async get(id: string): Promise<V | null> {
      const hit = cache.get(id);
      if (hit) return hit.v === MISSING ? null : hit.v;
      const started = generation;
      const value = await load(id);
      if (generation === started) cache.set(id, { v: value ?? MISSING });
      return value;
    },
    delete(id: string): void {
      generation++;
      cache.delete(id);
    },
    clear(): void {
      generation++;
      cache.clear();
    },
  };
}

export type CredentialResolver = ReturnType<typeof createCredentialResolver>;

export function createCredentialResolver(deps: CoreDeps) {
  const key = jwtKey(deps.secrets.jwtSecret);
  const lastUsed = createKeyLastUsedWriter(deps);

  const userCache = createLoadingCache<CachedUser>(100_000, async (id) => {
    const [row] = await deps.db
      .select({
        id: users.id, email: users.email, role: users.role, isPromoted: users.isPromoted, isBanned: users.isBanned,
        emailVerified: users.emailVerified, tokenVersion: users.tokenVersion, createdAt: users.createdAt, updatedAt: users.updatedAt,
      })
      .from(users)
      .where(eq(users.id, id))
      .limit(1);
    return row ?? null;
  });

  // Keyed by the key's SHA-256, which is also what invalidations carry.
  const keyCache = createLoadingCache<CachedKey>(50_000, async (hash) => {
    const [row] = await deps.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
      .limit(1);
    if (!row) return null;
    return { id: row.id, userId: row.userId, prefix: row.keyPrefix, scopes: row.scopes.filter(isScope), expiresAt: row.expiresAt?.getTime() ?? null };
  });

  const sessionCache = createLoadingCache<{ live: boolean; expiresAt: number }>(100_000, async (id) => {
    const [row] = await deps.db
      .select({ revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(eq(sessions.id, id))
      .limit(1);
    return row ? { live: row.revokedAt === null, expiresAt: row.expiresAt.getTime() } : null;
  });

  const caches = { user: userCache, key: keyCache, session: sessionCache } as const;
  const apply = (msg: Invalidation) => caches[msg.kind]?.delete(msg.id);
  let unsubscribe: (() => Promise<void>) | null = null;
  void deps.bus
    .subscribe(INVALIDATION_TOPIC, (raw) => {
      try {
        apply(JSON.parse(raw) as Invalidation);
      } catch {
        userCache.clear();
        keyCache.clear();
        sessionCache.clear();
      }
    })
    .then((u) => (unsubscribe = u))
    .catch((err: unknown) => deps.log.error({ err }, 'auth invalidation subscribe failed; relying on cache TTL'));
  deps.onShutdown(async () => {
    await lastUsed.flush();
    await unsubscribe?.();
  });

  async function invalidate(msg: Invalidation): Promise<void> {
    apply(msg); // here at once, before the response that caused it goes out
    try {
      await deps.bus.publish(INVALIDATION_TOPIC, JSON.stringify(msg));
    } catch (err) {
      deps.log.error({ err, ...msg }, 'auth invalidation broadcast failed; other instances rely on cache TTL');
    }
  }

  async function userFor(userId: string): Promise<CachedUser | null> {
    const user = await userCache.get(userId);
    if (user?.isBanned) throw accountBanned();
    return user;
  }

  async function resolveApiKey(clear: string): Promise<Principal | null> {
    // Synchronous node:crypto: several times cheaper than the async Web Crypto digest on this hot path (docs/TUNING.md, "Measurements behind code choices").
    const entry = await keyCache.get(createHash('sha256').update(clear).digest('hex'));
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= deps.clock.now())) return null;
    const user = await userFor(entry.userId);
    if (!user) return null;
    lastUsed.touch(entry.id);
    if (entry.memo?.user === user) return entry.memo.principal;
    const scopes = new Set<Scope>(entry.scopes);
    if (user.role !== 'admin') scopes.delete('admin'); // a demoted admin's keys lose it at once
    const principal: Principal = {
      userId: user.id, email: user.email, role: user.role, isPromoted: user.isPromoted, scopes,
      via: 'api_key', apiKeyId: entry.id, apiKeyPrefix: entry.prefix,
    };
    entry.memo = { user, principal };
    return principal;
  }

  async function resolveAccessToken(token: string, via: 'jwt' | 'cookie'): Promise<Principal | null> {
    if (!looksLikeJwt(token)) return null;
    const now = deps.clock.now();
    const claims = await verifyAccessToken(key, token, now);
    if (!claims) return null;
    const [user, session] = await Promise.all([userFor(claims.userId), sessionCache.get(claims.sessionId)]);
    if (!user || user.tokenVersion !== claims.tokenVersion) return null;
    if (!session?.live || session.expiresAt <= now) return null;
    return {
      userId: user.id, email: user.email, role: user.role, isPromoted: user.isPromoted,
      scopes: new Set<Scope>(user.role === 'admin' ? SCOPES : ALL_USER_SCOPES),
      via, sessionId: claims.sessionId,
    };
  }

  return {
    /**
     * The caller, or null when the request carries no valid credential. Throws 403
     * `ACCOUNT_BANNED` for a banned account and 403 `CSRF_INVALID` for a cookie-authenticated
     * mutating request without the matching `X-CSRF-Token`.
     */
    async resolve(request: Request): Promise<Principal | null> {
      // Two different credentials: which one is meant cannot be told, and the other was ignored
      // without a word (a valid key with a bad bearer token was accepted).
      const keyHeader = request.headers.get('x-api-key');
      const authHeader = request.headers.get('authorization');
      if (keyHeader !== null && authHeader !== null && authHeader.replace(/^Bearer\s+/i, '').trim() !== keyHeader.trim()) {
        throw new AppError('UNAUTHORIZED', 401, 'Two different credentials were sent, in X-API-Key and in Authorization: send one.',
          undefined, { 'WWW-Authenticate': 'Bearer realm="Pictor", error="invalid_request"' });
      }
      const apiKey = extractApiKey(request);
      if (apiKey) return resolveApiKey(apiKey);
      const bearer = bearerCredential(request);
      if (bearer) return resolveAccessToken(bearer, 'jwt');
      const cookie = readCookie(request, ACCESS_COOKIE);
      if (!cookie) return null;
      const principal = await resolveAccessToken(cookie, 'cookie');
      if (principal && !checkCsrf(request)) throw csrfInvalid();
      return principal;
    },
    /** The cached user row (profile, session checks); null when it does not exist. */
    getUser: (userId: string) => userCache.get(userId),
    /** Drops a user (ban, role, promotion, token version, email) on every instance. */
    invalidateUser: (userId: string) => invalidate({ kind: 'user', id: userId }),
    /** Drops a key (revoked, scopes or expiry changed) on every instance; pass its `key_hash`. */
    invalidateKey: (keyHash: string) => invalidate({ kind: 'key', id: keyHash }),
    /** Drops a session (logout, replay, password change) on every instance. */
    invalidateSession: (sessionId: string) => invalidate({ kind: 'session', id: sessionId }),
    /** Writes pending `last_used_at` values now (tests, shutdown). */
    flushUsage: () => lastUsed.flush(),
    /** Drops every cached credential in this process. */
    clear(): void {
      userCache.clear();
      keyCache.clear();
      sessionCache.clear();
    },
  };
}

