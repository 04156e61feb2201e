/** Invite codes (API.md §9): `INV-` + 16 base62, single use, optionally expiring. */
import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { randomString } from '../../lib/random';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../lib/cursors';
import { invites, type InviteRow } from './table';

export const generateInviteCode = () => `INV-${randomString(16)}`;

/** Claims a code for a new user with a guarded update; false when unknown, used or expired. */
export async function claimInvite(tx: DbOrTx, code: string, userId: string, now: Date): Promise<boolean> {
  const [row] = await tx
    .update(invites)
    .set({ usedAt: now, usedBy: userId })
    .where(and(eq(invites.code, code.trim()), isNull(invites.usedAt), or(isNull(invites.expiresAt), gt(invites.expiresAt, now))))
    .returning({ code: invites.code });
  return Boolean(row);
}

/** Whether `code` could be claimed now (`claimInvite` decides; this answers before any work is done). */
export async function inviteUsable(db: DbOrTx, code: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ code: invites.code })
    .from(invites)
    .where(and(eq(invites.code, code.trim()), isNull(invites.usedAt), or(isNull(invites.expiresAt), gt(invites.expiresAt, now))))
    .limit(1);
  return Boolean(row);
}

/** Creates `count` codes owned by `ownerId`. */
export async function createInvites(db: DbOrTx, o: { ownerId: string; createdBy: string; count: number; expiresAt: Date | null }): Promise<InviteRow[]> {
  const values = Array.from({ length: o.count }, () => ({ code: generateInviteCode(), ownerId: o.ownerId, createdBy: o.createdBy, expiresAt: o.expiresAt }));
  return db.insert(invites).values(values).returning();
}

/** The owner's codes that can still be used, newest first. */
/** The codes an invite list pages by: `INV-` and 16 base62 (the id half of its cursor). */
const INVITE_CODE = /^INV-[A-Za-z0-9]{16}$/;

/**
 * A page of the owner's usable codes, newest first, and how many there are in all: the list
 * stopped at 500 with `count` 500 and no next page, so an admin's 550th code was unreachable.
 */
export async function listUsableInvites(
  db: DbOrTx, ownerId: string, now: Date, page: { limit: number; cursor?: string },
): Promise<{ rows: InviteRow[]; count: number; next: string | null }> {
  const usable = and(eq(invites.ownerId, ownerId), isNull(invites.usedAt), or(isNull(invites.expiresAt), gt(invites.expiresAt, now)));
  const after = page.cursor ? decodeTimeIdCursor(page.cursor, INVITE_CODE) : undefined; // `cursor=` is the first page, as on every list
  const [rows, [total]] = await Promise.all([
    db.select().from(invites)
      .where(after ? and(usable, sql`(${invites.createdAt}, ${invites.code}) < (${after.at.toISOString()}::timestamptz, ${after.id})`) : usable)
      .orderBy(desc(invites.createdAt), desc(invites.code))
      .limit(page.limit + 1),
    db.select({ n: sql<number>`count(*)::int` }).from(invites).where(usable),
  ]);
  const more = rows.length > page.limit;
  const shown = more ? rows.slice(0, page.limit) : rows;
  const last = shown[shown.length - 1];
  return { rows: shown, count: total?.n ?? 0, next: more && last ? encodeTimeIdCursor(last.createdAt, last.code) : null };
}

export const toInviteJson = (i: InviteRow) => ({
  code: i.code,
  created_at: i.createdAt.toISOString(),
  expires_at: i.expiresAt?.toISOString() ?? null,
});
