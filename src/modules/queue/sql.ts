/**
 * Raw-SQL helpers shared by the queue: the claim/complete/fail statements are data-modifying
 * CTEs (change the job and append its event in one round trip), which the query builder cannot
 * express. Both drivers return rows differently (postgres.js: an array with bigints as strings;
 * PGlite: `{rows}` with numbers); everything here normalises to `JobRow`.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { JobRow, JobStatus } from './table';

/** NOTIFY channel workers listen on: a job became due. */
export const JOBS_CHANNEL = 'pictor_queue_jobs';
/** NOTIFY channel SSE hubs listen on: events were appended. */
export const EVENTS_CHANNEL = 'pictor_queue_events';

/** Runs a raw statement and returns its rows, whichever driver is underneath. */
export async function queryRows<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const toNum = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** Maps a raw `jobs` row (snake_case, driver-specific types) to the Drizzle row type. */
export function toJobRow(r: Record<string, unknown>): JobRow {
  return {
    id: String(r.id),
    type: String(r.type),
    status: r.status as JobStatus,
    priority: toNum(r.priority),
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload ?? {}) as Record<string, unknown>,
    userId: (r.user_id as string | null) ?? null,
    fileId: (r.file_id as string | null) ?? null,
    uniqueKey: (r.unique_key as string | null) ?? null,
    attempts: toNum(r.attempts),
    maxAttempts: toNum(r.max_attempts),
    progress: toNum(r.progress),
    lastError: (r.last_error as string | null) ?? null,
    cancelRequested: Boolean(r.cancel_requested),
    lockedBy: (r.locked_by as string | null) ?? null,
    lockedUntil: toDate(r.locked_until),
    runAt: toDate(r.run_at) ?? new Date(0),
    createdAt: toDate(r.created_at) ?? new Date(0),
    startedAt: toDate(r.started_at),
    finishedAt: toDate(r.finished_at),
  };
}

/**
 * `insert into job_events … select … from <cte>`: appends one event per changed job row, in
 * the same statement (and so the same transaction) as the change. The NOTIFY is sent at commit,
 * never for a rolled-back change.
 */
export function appendEventsFrom(cte: string, eventType: string | SQL): SQL {
  const type = typeof eventType === 'string' ? sql`${eventType}` : eventType;
  return sql`insert into job_events (job_id, user_id, type, data)
    select c.id, c.user_id, ${type}, jsonb_build_object(
      'job_id', c.id, 'type', c.type, 'status', c.status, 'attempts', c.attempts,
      'max_attempts', c.max_attempts, 'progress', c.progress, 'file_id', c.file_id,
      'last_error', c.last_error, 'run_at', c.run_at)
    from ${sql.raw(cte)} c`;
}

/** `select pg_notify(...)` for the events channel, only when the CTE changed something. */
export const notifyEventsFrom = (cte: string): SQL =>
  sql`select pg_notify(${EVENTS_CHANNEL}, '') from (select 1 from ${sql.raw(cte)} limit 1) n`;

const COLUMN_NAMES = [
  'id', 'type', 'status', 'priority', 'payload', 'user_id', 'file_id', 'unique_key', 'attempts', 'max_attempts',
  'progress', 'last_error', 'cancel_requested', 'locked_by', 'locked_until', 'run_at', 'created_at', 'started_at', 'finished_at',
];

/** Column list of a full job row for `returning`, qualified when the statement joins (`update … from`). */
export const jobColumns = (table = 'jobs'): SQL => sql.raw(COLUMN_NAMES.map((c) => `${table}.${c}`).join(', '));

export const JOB_COLUMNS = jobColumns();
