/**
 * Protected share links (issue #25): create, list, revoke for the owner; resolve and count a
 * view for anyone holding the link. A view is counted by one conditional UPDATE (live, under
 * `max_views`, not expired) so concurrent viewers on any instance can never exceed the limit;
 * when it matches no row, a second read says why (404 unknown/revoked, 410 used up or expired).
 */
import { and, count, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { conflict, gone, notFound, validationError } from '../../errors';
import { parseFutureTime } from '../../lib/dates';
import { randomString } from '../../lib/random';
import { hashPassword } from '../../platform/password';
import { getOwnFileOrThrow, urlBaseOf } from '../files/service';
import { shareLinks, type ShareLinkRow } from './table';

/** Links one file may have at once (a list without pages stays small). */
export const MAX_LINKS_PER_FILE = 100;
export const TOKEN_LENGTH = 22;

export interface ShareInput {
  password?: string;
  max_views?: number;
  expires_in?: number;
  expires_at?: string;
}

export function shareStatus(s: ShareLinkRow, now: number): 'active' | 'expired' | 'used_up' {
  if (s.expiresAt && s.expiresAt.getTime() <= now) return 'expired';
  if (s.maxViews !== null && s.views >= s.maxViews) return 'used_up';
  return 'active';
}

/**
 * A link as the API shows it. `fileExpiresAt`: a link cannot outlive its file, so its end is the
 * earlier of the two (it said the link's own, a day after a file that ended in ten minutes).
 */
export function toShareJson(s: ShareLinkRow, base: string, now: number, fileExpiresAt: Date | null) {
  const ends = fileExpiresAt && (!s.expiresAt || fileExpiresAt < s.expiresAt) ? fileExpiresAt : s.expiresAt;
  const shown = { ...s, expiresAt: ends };
  return {
    id: s.id,
    file_id: s.fileId,
    url: `${base}/s/${s.token}`,
    has_password: s.passwordHash !== null,
    max_views: s.maxViews,
    views: s.views,
    status: shareStatus(shown, now),
    expires_at: ends?.toISOString() ?? null,
    last_viewed_at: s.lastViewedAt?.toISOString() ?? null,
    created_at: s.createdAt.toISOString(),
  };
}

export async function createShare(deps: AppDeps, userId: string, fileId: string, input: ShareInput) {
  const file = await getOwnFileOrThrow(deps, userId, fileId);
  const now = deps.clock.now();
  if (input.expires_in !== undefined && input.expires_at !== undefined) {
    throw validationError('Send expires_in or expires_at, not both.', [{ path: '/expires_at', message: 'conflicts with expires_in' }]);
  }
  const expiresAt = input.expires_in !== undefined ? new Date(now + input.expires_in * 1000)
    : input.expires_at !== undefined ? parseFutureTime(input.expires_at, 'expires_at', now) : null;
  const [{ n } = { n: 0 }] = await deps.db.select({ n: count() }).from(shareLinks).where(eq(shareLinks.fileId, file.id));
  if (n >= MAX_LINKS_PER_FILE) throw conflict(`A file can have at most ${MAX_LINKS_PER_FILE} share links; revoke some first.`);
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;
  const [row] = await deps.db.insert(shareLinks).values({
    id: randomString(12),
    token: randomString(TOKEN_LENGTH),
    fileId: file.id,
    userId,
    passwordHash,
    maxViews: input.max_views ?? null,
    expiresAt,
    createdAt: new Date(now),
  }).returning();
  return toShareJson(row!, await urlBaseOf(deps, userId), now, file.expiresAt);
}

export async function listShares(deps: AppDeps, userId: string, fileId: string) {
  const file = await getOwnFileOrThrow(deps, userId, fileId);
  const [rows, base] = await Promise.all([
    deps.db.select().from(shareLinks).where(and(eq(shareLinks.fileId, file.id), eq(shareLinks.userId, userId)))
      .orderBy(desc(shareLinks.createdAt), desc(shareLinks.id)),
    urlBaseOf(deps, userId),
  ]);
  const now = deps.clock.now();
  return { results: rows.map((r) => toShareJson(r, base, now, file.expiresAt)), count: rows.length, next_cursor: null };
}

/** Revokes (deletes) a link of one of the owner's files; the link answers 404 from then on. */
export async function revokeShare(deps: AppDeps, userId: string, fileId: string, shareId: string): Promise<void> {
  const gone = await deps.db.delete(shareLinks)
    .where(and(eq(shareLinks.id, shareId), eq(shareLinks.fileId, fileId), eq(shareLinks.userId, userId)))
    .returning({ id: shareLinks.id });
  if (gone.length === 0) throw notFound('Share link');
}

export const isShareToken = (token: string) => token.length === TOKEN_LENGTH && /^[A-Za-z0-9]+$/.test(token);

/** A live link by token (revoked or unknown: 404), whatever its views and expiry. */
export async function findShare(deps: AppDeps, token: string): Promise<ShareLinkRow> {
  if (!isShareToken(token)) throw notFound('Share link');
  const [row] = await deps.db.select().from(shareLinks).where(eq(shareLinks.token, token)).limit(1);
  if (!row) throw notFound('Share link');
  return row;
}

/** 410 for a link past its expiry or out of views. */
export function refuseIfSpent(deps: AppDeps, row: ShareLinkRow): void {
  const status = shareStatus(row, deps.clock.now());
  if (status === 'expired') throw gone('This share link has expired.');
  if (status === 'used_up') throw gone('This share link has reached its maximum number of views.');
}

/** A link by token, or 404/410 — without counting a view (the password form, the checks before it). */
export async function getShare(deps: AppDeps, token: string): Promise<ShareLinkRow> {
  const row = await findShare(deps, token);
  refuseIfSpent(deps, row);
  return row;
}

/**
 * Counts one view, atomically with the checks: the row when this view was allowed; otherwise
 * throws 410 (used up or expired since it was read) or 404 (revoked meanwhile).
 */
export async function countView(deps: AppDeps, token: string): Promise<ShareLinkRow> {
  const now = new Date(deps.clock.now());
  const [row] = await deps.db.update(shareLinks)
    .set({ views: sql`${shareLinks.views} + 1`, lastViewedAt: now })
    .where(and(
      eq(shareLinks.token, token),
      or(isNull(shareLinks.maxViews), lt(shareLinks.views, shareLinks.maxViews)),
      or(isNull(shareLinks.expiresAt), gt(shareLinks.expiresAt, now)),
    ))
    .returning();
  if (row) return row;
  await getShare(deps, token); // throws the reason
  throw gone('This share link has reached its maximum number of views.');
}
