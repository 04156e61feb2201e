import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import { apiKeys, type ApiKeyRow } from './table';
import type { Db, DbOrTx } from '../../db/client';
import { conflict } from '../../errors';
import { users } from '../users/table';
import { randomString, sha256Hex } from '../../lib/random';
import { DEFAULT_KEY_SCOPES, type Scope } from './scopes';

/** `pk_` + 40 base62 characters ≈ 238 bits. */
const KEY_RANDOM_CHARS = 40;
export const KEY_PREFIX_LENGTH = 12;

export interface NewApiKey {
  key: string;
  hash: string;
  prefix: string;
}

/** A fresh key, its SHA-256 (what is stored) and its display prefix. */
export async function generateApiKey(): Promise<NewApiKey> {
  const key = `pk_${randomString(KEY_RANDOM_CHARS)}`;
  return { key, hash: await sha256Hex(key), prefix: key.slice(0, KEY_PREFIX_LENGTH) };
}

/** Creates a key for a user; the clear key is returned once and never stored. */
export async function createApiKey(
  db: DbOrTx,
  userId: string,
  opts: { name?: string | null; scopes?: Scope[]; expiresAt?: Date | null } = {},
): Promise<{ row: ApiKeyRow; key: string }> {
  const generated = await generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      userId,
      name: opts.name ?? null,
      keyHash: generated.hash,
      keyPrefix: generated.prefix,
      scopes: opts.scopes ?? DEFAULT_KEY_SCOPES,
      expiresAt: opts.expiresAt ?? null,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return { row, key: generated.key };
}

/**
 * Keys one account may hold unrevoked (expired ones too, until revoked): the list is one page,
 * and a session that makes keys in a loop stops here rather than growing the table for ever.
 */
export const MAX_LIVE_KEYS = 500;

const liveKeysOf = (userId: string) => and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt));

/** `createApiKey` under `MAX_LIVE_KEYS` (409 past it); the account's row is locked, so two creates cannot both take the last place. */
export async function createOwnApiKey(db: Db, userId: string, opts: Parameters<typeof createApiKey>[2]): ReturnType<typeof createApiKey> {
  return db.transaction(async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('no key update'); // not with inserts that refer to the account (account/deletion.ts)
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(apiKeys).where(liveKeysOf(userId));
    if (n >= MAX_LIVE_KEYS) throw conflict(`An account can have at most ${MAX_LIVE_KEYS} API keys; revoke some first (expired ones count until revoked).`);
    return createApiKey(tx, userId, opts);
  });
}

/** The user's live (unrevoked) keys, newest first. */
export async function listApiKeys(db: DbOrTx, userId: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(liveKeysOf(userId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(MAX_LIVE_KEYS);
}

/** Renames or re-scopes one of the user's keys; null when it is not theirs or is revoked. */
export async function updateApiKey(db: DbOrTx, userId: string, id: string, patch: { name?: string | null; scopes?: Scope[] }): Promise<ApiKeyRow | null> {
  const own = and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt));
  // An empty patch changes nothing and answers the key as it is (an UPDATE without a SET is a 500).
  if (Object.keys(patch).length === 0) {
    const [row] = await db.select().from(apiKeys).where(own).limit(1);
    return row ?? null;
  }
  const [row] = await db.update(apiKeys).set(patch).where(own).returning();
  return row ?? null;
}

/** Revokes one of the user's keys; null when it is not theirs or already revoked. */
export async function revokeApiKey(db: DbOrTx, userId: string, id: string, now: Date): Promise<ApiKeyRow | null> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
    .returning();
  return row ?? null;
}

/** The JSON of a key in lists (never the hash). */
export const toApiKeyJson = (k: ApiKeyRow) => ({
  id: k.id,
  key_prefix: k.keyPrefix,
  name: k.name,
  scopes: k.scopes,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  expires_at: k.expiresAt?.toISOString() ?? null,
});

/**
 * The account's keys lose the `admin` scope when its role is taken away (they were refused it
 * already, but kept it, listed, and had it again on a later promotion); a key left with no scope
 * ends. Returns the changed keys' hashes, for the credential caches.
 */
export async function dropAdminScope(db: DbOrTx, userId: string, now: Date): Promise<string[]> {
  const left = sql`array_remove(${apiKeys.scopes}, 'admin')`;
  const rows = await db
    .update(apiKeys)
    .set({ scopes: left, revokedAt: sql`case when cardinality(${left}) = 0 then coalesce(${apiKeys.revokedAt}, ${now.toISOString()}::timestamptz) else ${apiKeys.revokedAt} end` })
    .where(and(eq(apiKeys.userId, userId), sql`'admin' = any(${apiKeys.scopes})`))
    .returning({ keyHash: apiKeys.keyHash });
  return rows.map((r) => r.keyHash);
}
