/**
 * Seeds accounts and files straight into the database and storage of an in-process test app,
 * for suites that test what happens after an upload without going through it.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AppDeps } from '../../src/deps';
import { randomString } from '../../src/lib/random';
import type { Scope } from '../../src/modules/keys/scopes';
import { SCOPES } from '../../src/modules/keys/scopes';
import { createApiKey } from '../../src/modules/keys/service';
import { files } from '../../src/modules/files/table';
import { users } from '../../src/modules/users/table';

export interface SeededUser {
  id: string;
  key: string;
}

export async function seedUser(deps: AppDeps, opts: { role?: 'user' | 'admin'; scopes?: Scope[] } = {}): Promise<SeededUser> {
  const [user] = await deps.db
    .insert(users)
    .values({ email: `u${randomString(8).toLowerCase()}@example.com`, passwordHash: 'x', role: opts.role ?? 'user', emailVerified: true })
    .returning();
  if (!user) throw new Error('no user');
  const scopes = opts.scopes ?? SCOPES.filter((s) => s !== 'admin' || opts.role === 'admin');
  const { key } = await createApiKey(deps.db, user.id, { scopes });
  return { id: user.id, key };
}

export async function seedFile(
  deps: AppDeps,
  userId: string,
  bytes: Buffer,
  opts: { contentType?: string; isPublic?: boolean; expiresAt?: Date | null } = {},
): Promise<{ id: string; sha256: string }> {
  const id = randomString(12);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const storageKey = `test/${id}`;
  await deps.storage.put(storageKey, new Blob([new Uint8Array(bytes)]).stream(), { size: bytes.length });
  await deps.db.insert(files).values({
    id, userId, name: `${id}.img`, contentType: opts.contentType ?? 'image/png', size: bytes.length, sha256, storageKey,
    isPublic: opts.isPublic ?? true, expiresAt: opts.expiresAt ?? null,
  });
  return { id, sha256 };
}

export async function setBanned(deps: AppDeps, userId: string, banned: boolean): Promise<void> {
  await deps.db.update(users).set({ isBanned: banned }).where(eq(users.id, userId));
}
