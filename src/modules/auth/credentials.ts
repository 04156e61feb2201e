/**
 * Turns a request's credentials into a `Principal`.
 *
 * API keys (`Authorization: Bearer pk_…` or `X-API-Key`): SHA-256 of the key → row, cached in
 * memory so a warm key costs no database round trip.
 *
 * TODO(accounts issue): access JWTs and cookies (+ CSRF), bans, token versions, cross-instance
 * invalidation of this cache over `deps.bus`, batched `last_used_at`.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { AppDeps } from '../../deps';
import { sha256Hex } from '../../lib/random';
import { isScope, type Scope } from '../keys/scopes';
import { apiKeys } from '../keys/table';
import { users } from '../users/table';
import type { Principal } from './guard';

/** How long a verified key stays cached when no invalidation arrives (a safety net, not the mechanism). */
const KEY_CACHE_TTL_MS = 60_000;

export function extractApiKey(request: Request): string | null {
  const header = request.headers.get('x-api-key');
  if (header?.startsWith('pk_')) return header.trim();
  const auth = request.headers.get('authorization');
  if (auth?.startsWith('Bearer pk_')) return auth.slice(7).trim();
  return null;
}

export function createCredentialResolver(deps: AppDeps) {
  // Negative results are cached too (as null) so a flood of bad keys cannot hammer the database.
  const keyCache = new LRUCache<string, { principal: Principal | null; expiresAt: number | null }>({
    max: 50_000,
    ttl: KEY_CACHE_TTL_MS,
  });

  async function loadApiKey(hash: string): Promise<{ principal: Principal | null; expiresAt: number | null }> {
    const [row] = await deps.db
      .select({ key: apiKeys, user: users })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
      .limit(1);
    if (!row || row.user.isBanned) return { principal: null, expiresAt: null };
    const scopes = new Set<Scope>(row.key.scopes.filter(isScope));
    if (row.user.role !== 'admin') scopes.delete('admin');
    return {
      principal: {
        userId: row.user.id,
        email: row.user.email,
        role: row.user.role,
        isPromoted: row.user.isPromoted,
        scopes,
        via: 'api_key',
        apiKeyId: row.key.id,
        apiKeyPrefix: row.key.keyPrefix,
      },
      expiresAt: row.key.expiresAt?.getTime() ?? null,
    };
  }

  return {
    async resolve(request: Request): Promise<Principal | null> {
      const key = extractApiKey(request);
      if (!key) return null;
      const hash = await sha256Hex(key);
      let entry = keyCache.get(hash);
      if (!entry) {
        entry = await loadApiKey(hash);
        keyCache.set(hash, entry);
      }
      if (entry.expiresAt !== null && entry.expiresAt <= deps.clock.now()) return null;
      return entry.principal;
    },
    /** Drops every cached credential (used by invalidation). */
    clear(): void {
      keyCache.clear();
    },
  };
}
