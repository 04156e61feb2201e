import { bigint, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { users } from '../users/table';

// `cancelled`: its job was cancelled or deleted before the archive was built (export-jobs.ts).
// No migration: the column is plain text (the enum is TypeScript's only).
export const EXPORT_STATUSES = ['pending', 'running', 'ready', 'downloaded', 'failed', 'cancelled'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/**
 * Account exports (`POST /api/account/export`): a ZIP of the account's originals and a JSON
 * manifest, built by the `account_export` job straight into storage under `storage_key`, and
 * downloadable once (`downloaded_at` is set atomically by the download that sends its last byte;
 * its object is then removed). Removed with the account.
 */
export const accountExports = pgTable(
  'account_exports',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The admin who asked for it, when not the owner. */
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    status: text('status', { enum: EXPORT_STATUSES }).notNull().default('pending'),
    jobId: uuid('job_id'),
    storageKey: text('storage_key'),
    size: bigint('size', { mode: 'number' }),
    filesCount: integer('files_count'),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
    downloadedAt: timestamp('downloaded_at', { withTimezone: true, precision: 3 }),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('account_exports_user_idx').on(t.userId, t.createdAt)],
);
export type AccountExportRow = typeof accountExports.$inferSelect;

export const DELETION_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type DeletionStatus = (typeof DELETION_STATUSES)[number];

/**
 * Account deletions (`DELETE /api/account`). No foreign key on purpose: the row outlives the
 * account so its status stays readable; its random `id` is the capability the status endpoint
 * asks for (the account's credentials are gone by then).
 */
export const accountDeletions = pgTable('account_deletions', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  userId: uuid('user_id').notNull(),
  requestedBy: uuid('requested_by'),
  status: text('status', { enum: DELETION_STATUSES }).notNull().default('pending'),
  jobId: uuid('job_id'),
  error: text('error'),
  /** What the job removed, by kind (files, objects, keys, sessions, log batches…). */
  removed: text('removed'),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
});
export type AccountDeletionRow = typeof accountDeletions.$inferSelect;
