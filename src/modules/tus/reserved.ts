/**
 * What resumable uploads under way hold of an account's quota, for every upload route: what they
 * will bring is promised to them, and their last byte is no time to refuse them.
 */
import { and, eq, gt, ne, or, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import type { DbOrTx } from '../../db/client';
import { tusUploads } from './table';

/** How long a new resumable upload holds its length of the quota without sending a byte. */
const RESERVED_FOR_MS = 3_600_000;

/**
 * The account's resumable uploads under way: begun in the last hour or receiving now, with the
 * bytes they will bring (received so far for a deferred length). One left by a closed tab does
 * not hold the quota until it expires (a day by default): its own last byte is checked anyway.
 */
export async function openUploads(deps: Pick<AppDeps, 'db' | 'clock'>, userId: string, except?: string, db: DbOrTx = deps.db): Promise<{ bytes: number; files: number }> {
  const now = deps.clock.now();
  // A deferred length being received counts what its PATCH reserved (service.ts `reserveRoom`).
  const receiving = gt(tusUploads.lockedUntil, new Date(now));
  const [row] = await db.select({
    bytes: sql<number>`coalesce(sum(coalesce(${tusUploads.length}, case when ${receiving} then greatest(${tusUploads.offset}, ${tusUploads.reserved}) else ${tusUploads.offset} end)), 0)::float8`,
    files: sql<number>`count(*)::int`,
  }).from(tusUploads).where(and(
    eq(tusUploads.userId, userId),
    except === undefined ? undefined : ne(tusUploads.id, except),
    gt(tusUploads.expiresAt, new Date(now)),
    or(gt(tusUploads.createdAt, new Date(now - RESERVED_FOR_MS)), gt(tusUploads.lockedUntil, new Date(now))),
  ));
  return { bytes: Number(row?.bytes ?? 0), files: row?.files ?? 0 };
}
