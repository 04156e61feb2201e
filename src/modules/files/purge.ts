/**
 * Durable removal of bytes. A deleted or expired file keeps its row (with `deleted_at`) until
 * its purge has released its references to the stored bytes (de-duplicated, blobs.ts) in the
 * transaction that enqueues the deletion of those nobody references any more, so nothing is
 * forgotten if storage is down. Every soft
 * delete enqueues a `purge` job in its own transaction (service.ts `softDeleteFiles`); the
 * queue's `purge` handler (jobs.ts) calls `purgeFile` and is retried with backoff
 * until it succeeds, and the periodic `expire` job calls `expireFiles`.
 */
import { and, eq, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { users } from '../users/table';
import { forgetFiles } from './invalidate';
import { softDeleteFiles } from './service';
import { files } from './table';
import { deleteBlobBytes, releaseFileBlobs } from './blobs';

/**
 * Releases one soft-deleted file's stored bytes and deletes its row, in one transaction
 * (blobs.ts): bytes other files still reference stay; bytes nobody references any more get a
 * `blob_delete` job in the same transaction, run here at once (and retried by the queue should
 * storage fail now). Returns whether the original's bytes went (then the caller drops its
 * derivatives on every instance; while another file shares them, they stay useful).
 */
export async function purgeFile(deps: AppDeps, file: { id: string; storageKey: string; publicStorageKey?: string | null }): Promise<{ originalDied: boolean }> {
  const backend = deps.storage.kind;
  const released = await deps.db.transaction(async (tx) => {
    // Only while the row is still there and deleted: a retry after it went releases nothing twice.
    const [row] = await tx.select({ id: files.id, storageKey: files.storageKey, publicStorageKey: files.publicStorageKey })
      .from(files).where(and(eq(files.id, file.id), isNotNull(files.deletedAt))).for('update');
    return row ? releaseFileBlobs(tx, backend, [row]) : { deadKeys: [], originalDied: false };
  });
  await deleteDeadBlobs(deps, released.deadKeys);
  return { originalDied: released.originalDied };
}

/** Deletes released bytes now; a failure is left to their `blob_delete` jobs (retried with backoff). */
export async function deleteDeadBlobs(deps: AppDeps, keys: string[]): Promise<void> {
  for (const key of keys) {
    await deleteBlobBytes(deps, deps.storage.kind, key).catch((err: unknown) => {
      deps.log.warn({ err, key }, 'could not delete released bytes now; their blob_delete job retries');
    });
  }
}

/**
 * Marks expired files deleted, releases their usage and enqueues their purges, one account
 * per transaction; then tells delivery on every instance (expired files already answer 410).
 */
export async function expireFiles(deps: AppDeps, limit = 500): Promise<number> {
  const now = new Date(deps.clock.now());
  const expired = await deps.db.select({ id: files.id, userId: files.userId })
    .from(files).where(and(isNull(files.deletedAt), lte(files.expiresAt, now))).limit(limit);
  const byUser = new Map<string, string[]>();
  for (const f of expired) byUser.set(f.userId, [...(byUser.get(f.userId) ?? []), f.id]);
  let n = 0;
  for (const [userId, ids] of byUser) {
    n += await deps.db.transaction(async (tx) => {
      return (await softDeleteFiles(tx, userId, ids, now)).length;
    });
    await forgetFiles(deps, ids);
  }
  return n;
}

/** Usage counters recomputed from the table (for checks; the counters are kept exact by the writes). */
export async function usageFromTable(deps: AppDeps, userId: string) {
  const [row] = await deps.db.select({ bytes: sql<number>`coalesce(sum(${files.size}), 0)::bigint`, count: sql<number>`count(*)::int` })
    .from(files).where(and(eq(files.userId, userId), isNull(files.deletedAt)));
  const [u] = await deps.db.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users).where(eq(users.id, userId));
  return { tableBytes: Number(row?.bytes ?? 0), tableCount: row?.count ?? 0, storageBytes: u?.storageBytes ?? 0, filesCount: u?.filesCount ?? 0 };
}
