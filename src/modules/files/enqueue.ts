/**
 * The `purge` job a file's deletion enqueues, written with the caller's transaction (outbox
 * style, queue/enqueue.ts). Its handler is in jobs.ts; this file stays a leaf so the services
 * that delete files (service.ts) do not import the handlers that call them back (purge.ts).
 */
import { and, isNotNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { enqueueJob, type EnqueueOptions } from '../queue/enqueue';
import { files } from './table';

export const PURGE_JOB = 'purge';
/** A purge must eventually succeed: many attempts, backoff capped at 15 minutes (≈ a day in all). */
const PURGE_MAX_ATTEMPTS = 100;

const purgeSpec = (file: { id: string; userId?: string | null }): EnqueueOptions => ({
  type: PURGE_JOB,
  fileId: file.id,
  userId: file.userId ?? null,
  payload: { file_id: file.id },
  uniqueKey: `purge:${file.id}`,
  maxAttempts: PURGE_MAX_ATTEMPTS,
  priority: 1,
});

/** The `purge` job of a deleted file; call with the transaction that soft-deletes it. Deduped per file. */
export function enqueuePurge(tx: DbOrTx, file: { id: string; userId?: string | null }) {
  return enqueueJob(tx, purgeSpec(file));
}

/** Enqueues purges for deleted files that have no purge job yet (the unique key dedupes). */
export async function enqueueMissingPurges(deps: AppDeps, limit = 1000): Promise<number> {
  const rows = await deps.db
    .select({ id: files.id, userId: files.userId })
    .from(files)
    .where(and(isNotNull(files.deletedAt), sql`not exists (select 1 from jobs j where j.unique_key = 'purge:' || ${files.id})`))
    .limit(limit);
  let n = 0;
  for (const r of rows) if (await enqueueJob(deps.db, purgeSpec(r))) n++;
  return n;
}
