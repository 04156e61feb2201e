/**
 * Presigned uploads (API.md §4): `createUploadToken` issues a one-time URL carrying a policy
 * (folder, max size, content types, visibility) that a browser can POST a file to without any
 * credential. Only the token's SHA-256 is stored. Redemption is one conditional UPDATE, so of
 * several concurrent requests exactly one claims the token; a failed upload releases it again
 * so the browser may retry, a successful one keeps it spent.
 */
import { createHash } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { accountBanned, conflict, gone, notFound, validationError } from '../../errors';
import { randomString } from '../../lib/random';
import { allowedContentTypes, isAllowedType } from '../reference/content-types';
import { getSettings } from '../users/settings';
import { users } from '../users/table';
import { normalizeFolder } from './names';
import { uploadTokens } from './table';
import type { UploadPolicy } from './upload';

export const MAX_PRESIGN_EXPIRES_IN_S = 3600;
export const DEFAULT_PRESIGN_EXPIRES_IN_S = 900;

export interface PresignInput {
  folder?: string;
  max_size?: number;
  content_types?: string[];
  expires_in?: number;
  is_public?: boolean;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** Issues a presigned upload URL for `userId`. */
export async function createUploadToken(deps: AppDeps, userId: string, input: PresignInput): Promise<{ url: string; expires_at: string }> {
  const folder = normalizeFolder(input.folder, 'folder', true);
  const types = input.content_types?.map((t) => t.trim().toLowerCase());
  // A presigned URL can only narrow what the server accepts, never widen it.
  // (The upload must pass both lists, so this only catches policies that could never accept anything.)
  const admits = (t: string) => t === '*/*' || deps.config.allowedTypes.includes(t) || (t.endsWith('/*')
    ? allowedContentTypes(deps.config.allowedTypes).some((c) => c.mime.startsWith(t.slice(0, -1)))
    : isAllowedType(t, deps.config.allowedTypes));
  const refused = types?.filter((t) => !admits(t));
  if (refused?.length) {
    throw validationError(`Not accepted by this server: ${refused.join(', ')}.`, refused.map((t) => ({ path: '/content_types', message: `${t} is not allowed` })));
  }
  // Visibility the presign does not fix follows the account's default; the URL uses its URL base.
  const settings = await getSettings(deps.db, deps.config, userId);
  const expiresIn = input.expires_in ?? DEFAULT_PRESIGN_EXPIRES_IN_S;
  const expiresAt = new Date(deps.clock.now() + expiresIn * 1000);
  const token = randomString(43); // ≈ 256 bits
  await deps.db.insert(uploadTokens).values({
    tokenHash: hashToken(token),
    userId,
    folder,
    maxSize: input.max_size ?? null,
    contentTypes: types?.length ? types : null,
    isPublic: input.is_public ?? settings?.default_is_public ?? true,
    expiresAt,
  });
  return { url: `${settings?.public_url_base ?? deps.config.publicUrl}/api/uploads/${token}`, expires_at: expiresAt.toISOString() };
}

export interface ClaimedUpload {
  owner: { userId: string; isPromoted: boolean; role: string };
  policy: UploadPolicy;
  /** Makes the token usable again (the upload failed). */
  release(): Promise<void>;
  /** The token's digest, to release it later (a resumable upload it started that ends refused). */
  tokenHash: string;
}

/** Claims a token for one upload: 404 unknown, 410 expired, 409 already used (or in use). */
export async function claimUploadToken(deps: AppDeps, token: string): Promise<ClaimedUpload> {
  if (!/^[A-Za-z0-9]{20,64}$/.test(token)) throw notFound('Upload URL');
  const tokenHash = hashToken(token);
  const now = new Date(deps.clock.now());
  const [row] = await deps.db.update(uploadTokens).set({ usedAt: now })
    .where(and(eq(uploadTokens.tokenHash, tokenHash), isNull(uploadTokens.usedAt), gt(uploadTokens.expiresAt, now)))
    .returning();
  if (!row) {
    const [existing] = await deps.db.select({ usedAt: uploadTokens.usedAt, expiresAt: uploadTokens.expiresAt })
      .from(uploadTokens).where(eq(uploadTokens.tokenHash, tokenHash));
    if (!existing) throw notFound('Upload URL');
    if (existing.expiresAt.getTime() <= now.getTime()) throw gone('This upload URL has expired.');
    throw conflict('This upload URL has already been used.');
  }
  const release = () => releaseUploadToken(deps, tokenHash);
  const [user] = await deps.db.select({ isPromoted: users.isPromoted, role: users.role, isBanned: users.isBanned })
    .from(users).where(eq(users.id, row.userId));
  if (!user) throw notFound('Upload URL');
  if (user.isBanned) {
    await release();
    throw accountBanned();
  }
  return {
    owner: { userId: row.userId, isPromoted: user.isPromoted, role: user.role },
    policy: {
      folder: row.folder,
      isPublic: row.isPublic,
      maxBytes: row.maxSize ?? undefined,
      allowedTypes: row.contentTypes ?? undefined,
      // One file, as an S3 presigned POST: a site that hands out URLs for one picture took up to 20.
      maxFiles: 1,
    },
    release,
    tokenHash,
  };
}

/** Makes a claimed URL usable again (until it expires): the upload it started was refused or given up. */
export async function releaseUploadToken(deps: Pick<AppDeps, 'db'>, tokenHash: string): Promise<void> {
  await deps.db.update(uploadTokens).set({ usedAt: null }).where(eq(uploadTokens.tokenHash, tokenHash));
}
