/**
 * The worker's statements. Each changes jobs and appends their events in one round trip, and
 * every one that finishes or hands back a job checks `locked_by`, so a worker whose lease was
 * taken over can never overwrite the new owner's outcome.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { appendEventsFrom, EVENTS_CHANNEL, JOB_COLUMNS, JOBS_CHANNEL, queryRows, toJobRow } from './sql';
import type { JobRow } from './table';

const inList = (values: readonly string[]): SQL => sql.join(values.map((v) => sql`${v}`), sql`, `);
/**
 * Claims, completions, renewals and progress commit without waiting for the WAL flush
 * (`synchronous_commit = off` for that one implicit transaction). A crash of Postgres can lose
 * the last fraction of a second of them, which only means a job runs again — the queue is
 * at-least-once anyway — and it removes the fsync that otherwise bounds throughput.
 * Enqueues keep the caller's durability: they are part of the caller's transaction.
 */
const ASYNC_COMMIT = sql`set_config('synchronous_commit', 'off', true)`;

const leaseUntil = (leaseMs: number): SQL => sql`now() + (${leaseMs}::int * interval '1 millisecond')`;

/**
 * Claims up to `limit` due pending jobs of the given types, skipping rows other workers hold;
 * with `minAgeMs`, only jobs due for at least that long (the overdue background jobs, runner.ts).
 */
export async function claimJobs(db: DbOrTx, workerId: string, types: readonly string[], limit: number, leaseMs: number, minAgeMs = 0): Promise<JobRow[]> {
  if (types.length === 0 || limit <= 0) return [];
  const due = minAgeMs > 0 ? sql`now() - (${minAgeMs}::int * interval '1 millisecond')` : sql`now()`;
  const rows = await queryRows(
    db,
    sql`with c as (
        select id from jobs
        where status = 'pending' and run_at <= ${due} and type in (${inList(types)})
        order by priority desc nulls last, run_at, id
        limit ${limit} for update skip locked
      ), j as (
        update jobs set status = 'running', attempts = jobs.attempts + 1, locked_by = ${workerId},
          locked_until = ${leaseUntil(leaseMs)}, started_at = now(), finished_at = null
        from c where jobs.id = c.id
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.started')})
      select j.*, pg_notify(${EVENTS_CHANNEL}, ''), ${ASYNC_COMMIT} from j`,
  );
  return rows.map(toJobRow);
}

/** Marks jobs completed (batched: many workers' completions share one statement). */
export async function completeJobs(db: DbOrTx, workerId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await queryRows<{ id: string }>(
    db,
    sql`with j as (
        update jobs set status = 'completed', progress = 100, finished_at = now(), locked_by = null,
          locked_until = null, last_error = null
        where id in (${inList(ids)}) and locked_by = ${workerId} and status = 'running'
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.completed')})
      select j.id, pg_notify(${EVENTS_CHANNEL}, ''), ${ASYNC_COMMIT} from j`,
  );
  return new Set(rows.map((r) => String(r.id)));
}

/** Records a failed attempt: back to `pending` at `now + delayMs`, or `failed` when attempts are used up. */
export async function failJob(db: DbOrTx, workerId: string, id: string, error: string, delayMs: number): Promise<JobRow | null> {
  const rows = await queryRows(
    db,
    sql`with j as (
        update jobs set
          -- A cancel asked for while the attempt ran ends the job here: it was retried, and its
          -- retries ran (a webhook sent twice more) before the cancel took.
          status = case when cancel_requested then 'cancelled' when attempts >= max_attempts then 'failed' else 'pending' end,
          run_at = case when cancel_requested or attempts >= max_attempts then run_at else now() + (${Math.round(delayMs)}::int * interval '1 millisecond') end,
          finished_at = case when cancel_requested or attempts >= max_attempts then now() else null end,
          last_error = ${error.slice(0, 2000)}, locked_by = null, locked_until = null
        where id = ${id} and locked_by = ${workerId} and status = 'running'
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', sql`case when c.status = 'cancelled' then 'job.cancelled' when c.status = 'failed' then 'job.failed' else 'job.retrying' end`)})
      select j.*, pg_notify(${EVENTS_CHANNEL}, ''), pg_notify(${JOBS_CHANNEL}, '') from j`,
  );
  return rows[0] ? toJobRow(rows[0]) : null;
}

/** A running job whose handler honoured a cancel request ends `cancelled`. */
export async function markCancelled(db: DbOrTx, workerId: string, id: string, reason?: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`with j as (
        update jobs set status = 'cancelled', finished_at = now(), locked_by = null, locked_until = null,
          last_error = coalesce(${reason ?? null}::text, last_error)
        where id = ${id} and locked_by = ${workerId} and status = 'running'
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.cancelled')})
      select j.id, pg_notify(${EVENTS_CHANNEL}, '') from j`,
  );
  return rows.length > 0;
}

/**
 * Hands this worker's running jobs back on shutdown: `pending` again, the interrupted attempt
 * not counted (the job did nothing wrong), runnable at once by another worker.
 */
export async function releaseJobs(db: DbOrTx, workerId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await queryRows(
    db,
    sql`with j as (
        update jobs set status = 'pending', attempts = greatest(attempts - 1, 0), run_at = now(),
          locked_by = null, locked_until = null
        where id in (${inList(ids)}) and locked_by = ${workerId} and status = 'running'
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.released')})
      select j.id, pg_notify(${EVENTS_CHANNEL}, ''), pg_notify(${JOBS_CHANNEL}, '') from j`,
  );
  return rows.length;
}

/** Extends the leases of running jobs; returns, per job still held, whether a cancel was requested. */
export async function renewLeases(db: DbOrTx, workerId: string, ids: readonly string[], leaseMs: number): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{ id: string; cancel_requested: boolean }>(
    db,
    sql`update jobs set locked_until = ${leaseUntil(leaseMs)}
        where id in (${inList(ids)}) and locked_by = ${workerId} and status = 'running'
        returning id, cancel_requested, ${ASYNC_COMMIT}`,
  );
  return new Map(rows.map((r) => [String(r.id), Boolean(r.cancel_requested)]));
}

/** Stores progress (0–100) and its event; returns null when the lease is gone, else the cancel flag. */
export async function recordProgress(db: DbOrTx, workerId: string, id: string, progress: number, leaseMs: number): Promise<boolean | null> {
  const rows = await queryRows<{ cancel_requested: boolean }>(
    db,
    sql`with j as (
        update jobs set progress = ${Math.max(0, Math.min(100, Math.round(progress)))}, locked_until = ${leaseUntil(leaseMs)}
        where id = ${id} and locked_by = ${workerId} and status = 'running'
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.progress')})
      select j.cancel_requested, pg_notify(${EVENTS_CHANNEL}, ''), ${ASYNC_COMMIT} from j`,
  );
  return rows[0] ? Boolean(rows[0].cancel_requested) : null;
}

/**
 * Takes back jobs whose worker vanished (lease ran out): `pending` to be retried (the lost
 * attempt counts), `failed` when none are left, `cancelled` if a cancel was pending.
 */
export async function reapExpiredLeases(db: DbOrTx): Promise<number> {
  const rows = await queryRows(
    db,
    sql`with r as (
        select id from jobs where status = 'running' and locked_until < now()
        order by locked_until limit 100 for update skip locked
      ), j as (
        update jobs set
          status = case when jobs.cancel_requested then 'cancelled' when jobs.attempts >= jobs.max_attempts then 'failed' else 'pending' end,
          finished_at = case when jobs.cancel_requested or jobs.attempts >= jobs.max_attempts then now() else null end,
          last_error = 'lease expired: the worker stopped responding', run_at = now(),
          locked_by = null, locked_until = null
        from r where jobs.id = r.id
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', sql`case c.status when 'pending' then 'job.retrying' when 'cancelled' then 'job.cancelled' else 'job.failed' end`)})
      select j.id, pg_notify(${EVENTS_CHANNEL}, ''), pg_notify(${JOBS_CHANNEL}, '') from j`,
  );
  return rows.length;
}
