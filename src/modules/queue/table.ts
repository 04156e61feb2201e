import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The durable job queue (API.md §8). A job is claimed with `FOR UPDATE SKIP LOCKED` and held
 * by a lease (`locked_by`, `locked_until`) its worker renews while it runs; a lease that runs
 * out means the worker died and the job goes back to `pending` (or `failed` when it has used
 * its attempts). `unique_key` dedupes: one periodic sweep per period across all instances, or
 * one purge per file. `file_id` has no foreign key on purpose: a purge outlives its file row.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    type: text('type').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('pending'),
    priority: integer('priority').notNull().default(0),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    fileId: text('file_id'),
    uniqueKey: text('unique_key'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    progress: integer('progress').notNull().default(0),
    lastError: text('last_error'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    runAt: timestamp('run_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    // The claim query walks this index in order and stops at the first unlocked due rows.
    index('jobs_claim_idx').on(t.priority.desc(), t.runAt, t.id).where(sql`${t.status} = 'pending'`),
    index('jobs_lease_idx').on(t.lockedUntil).where(sql`${t.status} = 'running'`),
    index('jobs_user_created_idx').on(t.userId, t.createdAt, t.id),
    index('jobs_created_idx').on(t.createdAt, t.id),
    index('jobs_finished_idx').on(t.finishedAt).where(sql`${t.finishedAt} is not null`),
    // A video rendition's job by its variant: every 202 poll looks it up (it scanned the table).
    index('jobs_type_variant_idx').on(t.type, sql`(${t.payload}->>'variant')`),
    uniqueIndex('jobs_unique_key').on(t.uniqueKey),
  ],
);

export type JobRow = typeof jobs.$inferSelect;

/**
 * The durable, ordered event log behind `/api/queue/events`. Rows are written in the same
 * transaction as the job change they describe. `tx` is the writing transaction's id: readers
 * only deliver rows whose transaction is older than every transaction still running
 * (`pg_snapshot_xmin`), ordered by `(tx, id)`, so a row that commits late can never slip in
 * behind a cursor a client has already passed.
 */
export const jobEvents = pgTable(
  'job_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tx: bigint('tx', { mode: 'number' }).notNull().default(sql`(pg_current_xact_id()::text::bigint)`),
    jobId: uuid('job_id').notNull(),
    userId: uuid('user_id'),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('job_events_order_idx').on(t.tx, t.id), index('job_events_created_idx').on(t.createdAt)],
);

export type JobEventRow = typeof jobEvents.$inferSelect;
