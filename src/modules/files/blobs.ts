/**
 * De-duplicated storage (issue #25): identical bytes are stored once per storage backend and
 * shared by reference count (`blobs`, blob-table.ts). The protocol keeps two promises, that an
 * acknowledged upload's bytes are never deleted and that unreferenced bytes never stay forever:
 *
 * - Upload: the bytes are first written under the upload's own fresh key (`<user>/<file id>`).
 *   The transaction that writes the file row calls `acquireBlob`: an upsert on (backend,
 *   sha256) that either makes the fresh key the blob (count 1) or takes one more reference on
 *   the existing blob and returns its key, which the row then holds; after commit the upload
 *   deletes its own copy (ingest.ts). A crash before that delete leaves an object no row or blob
 *   references, which the orphan sweep (orphans.ts) removes.
 * - Delete: the purge transaction (`releaseFileBlobs`) locks the file's blob rows, decrements
 *   them, deletes the file row, and for every count that reached 0 enqueues a `blob_delete` job
 *   in the same transaction. The job (`deleteBlobBytes`) deletes the bytes, then the row.
 * - A count of 0 is final for that key: an upload of the same content meanwhile does not revive
 *   the dying object but installs its own fresh key in the row (so `blob_delete` of the old key
 *   can never remove bytes a file needs: a key, once dead, is never referenced again).
 *
 * The upsert and the purge both take the blob row's lock, so concurrent uploads and deletes of
 * the same content serialise on it. Files written before de-duplication have no blob row and
 * own their object alone; their purge deletes it directly (through the same job).
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { enqueueJob } from '../queue/enqueue';
import { blobs } from './blob-table';
import { files } from './table';

export const BLOB_DELETE_JOB = 'blob_delete';

/** In the file row's transaction: one reference on the blob of these bytes; returns the key the row must hold. */
export async function acquireBlob(tx: DbOrTx, backend: string, b: { sha256: string; key: string; size: number }): Promise<string> {
  const [row] = await tx.insert(blobs)
    .values({ backend, sha256: b.sha256, storageKey: b.key, size: b.size, refcount: 1 })
    .onConflictDoUpdate({
      target: [blobs.backend, blobs.sha256],
      set: {
        // A dying blob (count 0) keeps its key for its `blob_delete` job; this upload's own key takes over.
        storageKey: sql`case when ${blobs.refcount} > 0 then ${blobs.storageKey} else excluded.storage_key end`,
        refcount: sql`case when ${blobs.refcount} > 0 then ${blobs.refcount} + 1 else 1 end`,
      },
    })
    .returning({ storageKey: blobs.storageKey });
  if (!row) throw new Error('blob upsert returned nothing');
  return row.storageKey;
}

/** What releasing a file's references decided. */
export interface Released {
  /** Keys whose bytes are no longer referenced (a `blob_delete` job was enqueued for each). */
  deadKeys: string[];
  /** Whether the original's bytes died (then its derivatives, keyed by sha256, go as well). */
  originalDied: boolean;
}

const blobJobKey = (backend: string, key: string) => `blob:${backend}:${key}`;

/**
 * The `blob_delete` job of a key no file references any more; enqueue in the releasing
 * transaction. With the bytes' `sha256`, the job also drops their derivatives on every instance:
 * the purge that enqueued it tells the caches once committed, but a crash in between left them
 * on disk for good.
 */
export function enqueueBlobDelete(tx: DbOrTx, backend: string, key: string, o: { runAt?: Date; sha256?: string } = {}) {
  return enqueueJob(tx, {
    type: BLOB_DELETE_JOB, payload: { backend, key, ...(o.sha256 ? { sha256: o.sha256 } : {}) }, uniqueKey: blobJobKey(backend, key), maxAttempts: 100, priority: 1, runAt: o.runAt,
  });
}

/**
 * In the caller's transaction: releases the references of these (soft-deleted or about to go)
 * file rows and deletes the rows. A key without a blob row belongs to its file alone (pre-dedup rows, legacy public copies).
 */
export async function releaseFileBlobs(
  tx: DbOrTx, backend: string, rows: { id: string; storageKey: string; publicStorageKey: string | null }[],
): Promise<Released> {
  if (rows.length === 0) return { deadKeys: [], originalDied: false };
  const uses = new Map<string, number>();
  for (const r of rows) for (const k of [r.storageKey, r.publicStorageKey]) if (k) uses.set(k, (uses.get(k) ?? 0) + 1);
  const keys = [...uses.keys()].sort();
  // Locked in sha256 order, the order uploads take them in (ingest.ts): no deadlock between the two.
  const locked = await tx.select({ storageKey: blobs.storageKey, refcount: blobs.refcount, sha256: blobs.sha256 }).from(blobs)
    .where(and(eq(blobs.backend, backend), inArray(blobs.storageKey, keys)))
    .orderBy(blobs.sha256).for('update');
  const counts = new Map(locked.map((b) => [b.storageKey, b.refcount]));
  const dead: string[] = [];
  for (const key of keys) {
    const n = uses.get(key) as number;
    const count = counts.get(key);
    if (count === undefined) {
      dead.push(key);
      continue;
    }
    const left = Math.max(count - n, 0);
    await tx.update(blobs).set({ refcount: left }).where(and(eq(blobs.backend, backend), eq(blobs.storageKey, key)));
    if (left === 0) dead.push(key);
  }
  await tx.delete(files).where(inArray(files.id, rows.map((r) => r.id)));
  const shaOf = new Map(locked.map((b) => [b.storageKey, b.sha256]));
  for (const key of dead) await enqueueBlobDelete(tx, backend, key, { sha256: shaOf.get(key) });
  const deadSet = new Set(dead);
  return { deadKeys: dead, originalDied: rows.some((r) => deadSet.has(r.storageKey)) };
}

/**
 * The `blob_delete` job's work: deletes the bytes of a key no file references, then its blob
 * row. Safe to repeat and to run beside uploads: a key whose row has a count above 0 is left
 * alone (it cannot happen for a released key, see above, but the check costs one lookup).
 */
export async function deleteBlobBytes(deps: AppDeps, backend: string, key: string): Promise<boolean> {
  const [live] = await deps.db.select({ refcount: blobs.refcount }).from(blobs)
    .where(and(eq(blobs.backend, backend), eq(blobs.storageKey, key)));
  if (live && live.refcount > 0) return false;
  if (backend !== deps.storage.kind) throw new Error(`blob of backend ${backend} but storage is ${deps.storage.kind}`);
  await deps.storage.delete(key);
  await deps.db.delete(blobs).where(and(eq(blobs.backend, backend), eq(blobs.storageKey, key), eq(blobs.refcount, 0)));
  return true;
}

/** Of `keys`, those a live blob row holds (the orphan sweep must keep them whatever their name). */
export async function liveBlobKeys(deps: AppDeps, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await deps.db.select({ storageKey: blobs.storageKey }).from(blobs)
    .where(and(eq(blobs.backend, deps.storage.kind), inArray(blobs.storageKey, keys), sql`${blobs.refcount} > 0`));
  return new Set(rows.map((r) => r.storageKey));
}
