/**
 * Enqueueing, outbox style: `enqueueJob(tx, …)` inside the caller's Drizzle transaction writes
 * the job and its `job.created` event together, so a committed change always has its job and a
 * rolled-back one never does.
 *
 * No NOTIFY here on purpose: Postgres serialises the commits of every transaction that sent a
 * NOTIFY (a database-wide lock held through the WAL flush), which cut single-job enqueue
 * throughput several-fold (docs/TUNING.md, "Job queue"). Workers find new jobs by polling
 * (`QUEUE_POLL_MS`, 1 s) — an indexed probe of the pending jobs — and `deps.queue.enqueue`, or
 * `deps.queue.wake()` after a transaction that enqueued, wakes the local worker at once.
 */
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { appendEventsFrom, JOB_COLUMNS, queryRows, toJobRow } from './sql';
import type { JobRow } from './table';

/** The job types the server knows; modules may register more. */
export type CoreJobType = 'derive' | 'purge' | 'expire' | 'prune';

export interface EnqueueOptions {
  type: CoreJobType | (string & {});
  payload?: Record<string, unknown>;
  /** Owner: the user who sees the job in `/api/queue`; null for system jobs. */
  userId?: string | null;
  fileId?: string | null;
  /** Not before this time (default: now). */
  runAt?: Date;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Attempts before the job is `failed` (default 5). */
  maxAttempts?: number;
  /** At most one job with this key ever exists; a second enqueue returns null instead. */
  uniqueKey?: string;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Inserts jobs (one statement, one round trip). Returns the inserted rows (in no particular
 * order), minus those whose `uniqueKey` already existed.
 */
export async function enqueueJobs(db: DbOrTx, specs: EnqueueOptions[]): Promise<JobRow[]> {
  if (specs.length === 0) return [];
  const values = sql.join(
    specs.map((s, i) => {
      const runAt = s.runAt ? sql`${s.runAt.toISOString()}::timestamptz` : sql`now()`;
      return sql`(${i}, ${s.type}, ${JSON.stringify(s.payload ?? {})}::jsonb, ${s.userId ?? null}::uuid,
        ${s.fileId ?? null}::text, ${s.uniqueKey ?? null}::text, ${s.priority ?? 0}::int,
        ${s.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}::int, ${runAt})`;
    }),
    sql`, `,
  );
  const rows = await queryRows(
    db,
    sql`with v (ord, type, payload, user_id, file_id, unique_key, priority, max_attempts, run_at) as (values ${values}),
      j as (
        insert into jobs (type, payload, user_id, file_id, unique_key, priority, max_attempts, run_at)
        select type, payload, user_id, file_id, unique_key, priority, max_attempts, run_at from v order by ord
        on conflict (unique_key) do nothing
        returning ${JOB_COLUMNS}
      ),
      e as (${appendEventsFrom('j', 'job.created')})
      select j.* from j`,
  );
  return rows.map(toJobRow);
}

/** Enqueues one job inside `db` (a transaction or the database). Null when `uniqueKey` already exists. */
export async function enqueueJob(db: DbOrTx, spec: EnqueueOptions): Promise<JobRow | null> {
  const [row] = await enqueueJobs(db, [spec]);
  return row ?? null;
}
