/**
 * The operations behind `/api/queue` (API.md §8): list, stats, retry, cancel, delete. Every one
 * is scoped by a `Viewer`: users see and touch only their own jobs, admins all of them; a job
 * the viewer may not see is "not found", never "forbidden".
 */
import { and, count, desc, eq, inArray, isNotNull, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { AppError, conflict, notFound } from '../../errors';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../lib/cursors';
import { closestName } from '../../lib/suggest';
import { appendEventsFrom, EVENTS_CHANNEL, JOB_COLUMNS, JOBS_CHANNEL, queryRows, toJobRow } from './sql';
import { files } from '../files/table';
import { JOB_STATUSES, jobs, type JobRow, type JobStatus } from './table';

export interface Viewer {
  userId: string;
  /** Admins see every job. */
  all: boolean;
}

const FINISHED: JobStatus[] = ['completed', 'failed', 'cancelled'];

/** The API shape of a job (snake_case, ISO timestamps). */
export function toJobJson(j: JobRow) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    priority: j.priority,
    attempts: j.attempts,
    max_attempts: j.maxAttempts,
    progress: j.progress,
    payload: j.payload,
    last_error: j.lastError,
    file_id: j.fileId,
    user_id: j.userId,
    cancel_requested: j.cancelRequested,
    created_at: j.createdAt.toISOString(),
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
    run_at: j.runAt.toISOString(),
  };
}
export type JobJson = ReturnType<typeof toJobJson>;

const visibleTo = (v: Viewer): SQL | undefined => (v.all ? undefined : eq(jobs.userId, v.userId));
/**
 * What a list or count covers: the viewer's jobs, narrowed by `system` — true: only the server's
 * own housekeeping (jobs of no account, such as the minutely `expire`), false: only accounts' jobs.
 */
const scoped = (v: Viewer, system: boolean | undefined): SQL | undefined =>
  and(visibleTo(v), system === undefined ? undefined : system ? isNull(jobs.userId) : isNotNull(jobs.userId));
const visibleSql = (v: Viewer): SQL => (v.all ? sql`true` : sql`user_id = ${v.userId}::uuid`);

export interface ListQuery {
  status?: JobStatus;
  type?: string;
  system?: boolean;
  limit?: number;
  cursor?: string;
}

/**
 * A `type` filter must name a job type: one this server registers, or one the viewer's jobs
 * still have (a type retired by an upgrade stays listable until its jobs are pruned, as the
 * stats show it). Anything else is a typo that would list nothing: 400, naming the known types.
 */
export async function checkJobType(db: Db, viewer: Viewer, type: string, registered: readonly string[]): Promise<void> {
  if (registered.includes(type)) return;
  const [present] = await db.select({ id: jobs.id }).from(jobs).where(and(visibleTo(viewer), eq(jobs.type, type))).limit(1);
  if (present) return;
  const known = [...registered].sort();
  const suggestion = closestName(type, known);
  throw new AppError('VALIDATION_ERROR', 400, `Unknown job type ${JSON.stringify(type)}${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}. Known: ${known.join(', ')}.`, {
    fields: [{
      path: '/type', in: 'query', message: `is not a known job type${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
      ...(suggestion === undefined ? {} : { suggestion }),
    }],
    known_types: known,
  });
}

/** Newest first, keyset-paginated on `(created_at, id)`; `count` covers all pages. */
export async function listJobs(db: Db, viewer: Viewer, q: ListQuery) {
  const limit = q.limit ?? 50;
  const filter = and(scoped(viewer, q.system), q.status ? eq(jobs.status, q.status) : undefined, q.type ? eq(jobs.type, q.type) : undefined);
  let page = filter;
  if (q.cursor) {
    const c = decodeTimeIdCursor(q.cursor);
    page = and(filter, or(lt(jobs.createdAt, c.at), and(eq(jobs.createdAt, c.at), lt(jobs.id, c.id))));
  }
  const [rows, [total]] = await Promise.all([
    // The file's name rides along for people reading the list (the primary key join costs a lookup per row).
    db.select({ job: jobs, fileName: files.name }).from(jobs).leftJoin(files, eq(files.id, jobs.fileId))
      .where(page).orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(limit + 1),
    db.select({ n: count() }).from(jobs).where(filter),
  ]);
  const more = rows.length > limit;
  const results = rows.slice(0, limit);
  const last = results[results.length - 1]?.job;
  return {
    results: results.map((r) => ({ ...toJobJson(r.job), file_name: r.fileName })),
    count: total?.n ?? 0,
    next_cursor: more && last ? encodeTimeIdCursor(last.createdAt, last.id) : null,
  };
}

type Counts = Record<JobStatus, number>;
const zeroCounts = (): Counts => ({ pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 });

/** Counts by status, overall and per type. */
export async function getStats(db: Db, viewer: Viewer, system?: boolean) {
  const rows = await db
    .select({ type: jobs.type, status: jobs.status, n: count() })
    .from(jobs)
    .where(scoped(viewer, system))
    .groupBy(jobs.type, jobs.status);
  const totals = zeroCounts();
  const byType: Record<string, Counts> = {};
  for (const r of rows) {
    totals[r.status] += r.n;
    (byType[r.type] ??= zeroCounts())[r.status] += r.n;
  }
  return { ...totals, by_type: byType };
}

async function getVisible(db: Db, viewer: Viewer, id: string): Promise<JobRow> {
  const [row] = await db.select().from(jobs).where(and(eq(jobs.id, id), visibleTo(viewer))).limit(1);
  if (!row) throw notFound('Job');
  return row;
}

/** One job the viewer may see, with its file's name as the list gives it; 404 otherwise. */
export async function getJob(db: Db, viewer: Viewer, id: string) {
  const [row] = await db.select({ job: jobs, fileName: files.name }).from(jobs).leftJoin(files, eq(files.id, jobs.fileId))
    .where(and(eq(jobs.id, id), visibleTo(viewer))).limit(1);
  if (!row) throw notFound('Job');
  return { ...toJobJson(row.job), file_name: row.fileName };
}

/** failed or cancelled → pending, with a fresh set of attempts. */
export async function retryJob(db: Db, viewer: Viewer, id: string): Promise<JobJson> {
  const rows = await queryRows(
    db,
    sql`with j as (
        update jobs set status = 'pending', attempts = 0, progress = 0, run_at = now(), finished_at = null,
          started_at = null, cancel_requested = false
        where id = ${id}::uuid and status in ('failed', 'cancelled') and ${visibleSql(viewer)}
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', 'job.retrying')})
      select j.*, pg_notify(${EVENTS_CHANNEL}, ''), pg_notify(${JOBS_CHANNEL}, '') from j`,
  );
  if (rows[0]) return toJobJson(toJobRow(rows[0]));
  const job = await getVisible(db, viewer, id);
  throw conflict(`Only failed or cancelled jobs can be retried; this one is ${job.status}.`);
}

/** pending → cancelled at once; running → cancel requested (the worker stops at its next check). */
export async function cancelJob(db: Db, viewer: Viewer, id: string): Promise<JobJson> {
  const rows = await queryRows(
    db,
    sql`with j as (
        update jobs set
          status = case when status = 'pending' then 'cancelled' else status end,
          finished_at = case when status = 'pending' then now() else finished_at end,
          cancel_requested = true
        where id = ${id}::uuid and status in ('pending', 'running') and ${visibleSql(viewer)}
        returning ${JOB_COLUMNS}
      ), e as (${appendEventsFrom('j', sql`case when c.status = 'cancelled' then 'job.cancelled' else 'job.cancel_requested' end`)})
      select j.*, pg_notify(${EVENTS_CHANNEL}, '') from j`,
  );
  if (rows[0]) return toJobJson(toJobRow(rows[0]));
  const job = await getVisible(db, viewer, id);
  throw conflict(`Only pending or running jobs can be cancelled; this one is ${job.status}.`);
}

/** Deletes a finished job (completed, failed or cancelled). */
export async function deleteJob(db: Db, viewer: Viewer, id: string): Promise<void> {
  const deleted = await db
    .delete(jobs)
    .where(and(eq(jobs.id, id), inArray(jobs.status, FINISHED), visibleTo(viewer)))
    .returning({ id: jobs.id });
  if (deleted.length) return;
  const job = await getVisible(db, viewer, id);
  throw conflict(`Only finished jobs can be deleted; this one is ${job.status}.`);
}

export const isJobStatus = (s: string): s is JobStatus => (JOB_STATUSES as readonly string[]).includes(s);
