/** Invite codes (API.md §9): `INV-` + 16 base62, single use, optionally expiring. */
import { and, desc, eq, gt, isNull, or } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { randomString } from '../../lib/random';
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

/** Creates `count` codes owned by `ownerId`. */
export async function createInvites(db: DbOrTx, o: { ownerId: string; createdBy: string; count: number; expiresAt: Date | null }): Promise<InviteRow[]> {
  const values = Array.from({ length: o.count }, () => ({ code: generateInviteCode(), ownerId: o.ownerId, createdBy: o.createdBy, expiresAt: o.expiresAt }));
  return db.insert(invites).values(values).returning();
}

/** The owner's codes that can still be used, newest first. */
export async function listUsableInvites(db: DbOrTx, ownerId: string, now: Date): Promise<InviteRow[]> {
  return db
    .select()
    .from(invites)
    .where(and(eq(invites.ownerId, ownerId), isNull(invites.usedAt), or(isNull(invites.expiresAt), gt(invites.expiresAt, now))))
    .orderBy(desc(invites.createdAt))
    .limit(500);
}

export const toInviteJson = (i: InviteRow) => ({
  code: i.code,
  created_at: i.createdAt.toISOString(),
  expires_at: i.expiresAt?.toISOString() ?? null,
});
