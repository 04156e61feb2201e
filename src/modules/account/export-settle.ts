/**
 * An export is built by its `account_export` job, which the owner can cancel or delete
 * (`/api/queue/jobs/:id`) and which can fail for good. The queue is generic and knows nothing of
 * exports, so instead of the queue reaching into this table, an export that is still `pending`
 * or `running` is judged by its job row: once that job is no longer pending or running (or is
 * gone), nothing will ever build the archive, and the export is settled as `cancelled` or
 * `failed` with the reason. This runs before every read of an export's status and before the
 * one-export-at-a-time check, in one statement, so it is right whichever process cancelled the
 * job and whichever process reads (the job row in the shared database is the truth).
 */
import { and, inArray, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { accountExports } from './table';

/** The export's job's status; null when the job row is gone (deleted through the API, or pruned). */
const jobStatus = sql`(select j.status from jobs j where j.id = ${accountExports.jobId})`;
const jobError = sql`(select j.last_error from jobs j where j.id = ${accountExports.jobId})`;

/**
 * Settles the unfinished exports matching `scope` whose job can no longer build them; returns
 * how many. A job still pending (retries included) or running keeps its export unfinished,
 * even with a cancel requested: it may yet finish, and the handler records the cancel itself.
 */
export async function settleOrphanedExports(db: DbOrTx, scope: SQL, now: Date): Promise<number> {
  const settled = await db.update(accountExports).set({
    status: sql`case when ${jobStatus} = 'failed' then 'failed' else 'cancelled' end`,
    error: sql`case coalesce(${jobStatus}, 'deleted')
      when 'deleted' then 'Its job was deleted before the archive was built; ask for a new export.'
      when 'cancelled' then 'Its job was cancelled before the archive was built; ask for a new export.'
      when 'failed' then 'Its job failed: ' || coalesce(${jobError}, 'no reason recorded')
      else 'Its job ended without building the archive; ask for a new export.' end`,
    finishedAt: now,
  }).where(and(
    scope,
    inArray(accountExports.status, ['pending', 'running']),
    sql`not exists (select 1 from jobs j where j.id = ${accountExports.jobId} and j.status in ('pending', 'running'))`,
  )).returning({ id: accountExports.id });
  return settled.length;
}
