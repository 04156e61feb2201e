import { sql } from 'drizzle-orm';
import { bigint, date, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/**
 * Delivery usage per account and calendar month (UTC), API.md §3: `origin_reads`, `image_ops`,
 * `bytes_served`. Each process adds its in-memory deltas with one upsert per batch
 * (`usage/recorder.ts`), so rows from several instances simply sum. `period` is the first day
 * of the month; older months stay queryable.
 */
export const usageCounters = pgTable(
  'usage_counters',
  {
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    period: date('period', { mode: 'string' }).notNull(),
    originReads: bigint('origin_reads', { mode: 'number' }).notNull().default(0),
    imageOps: bigint('image_ops', { mode: 'number' }).notNull().default(0),
    bytesServed: bigint('bytes_served', { mode: 'number' }).notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ columns: [t.userId, t.period] })],
);

/**
 * The same counters per account and UTC day, plus `uploads`/`upload_bytes` and a snapshot of
 * the account's storage, for the usage page's charts (`GET /api/usage/history`). Written by the
 * same flush as `usage_counters`; `storage_bytes`/`files_count` are the account's totals at the
 * day's last flush (a day without activity has no row: its storage is the previous day's).
 */
export const usageDaily = pgTable(
  'usage_daily',
  {
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    day: date('day', { mode: 'string' }).notNull(),
    uploads: bigint('uploads', { mode: 'number' }).notNull().default(0),
    uploadBytes: bigint('upload_bytes', { mode: 'number' }).notNull().default(0),
    originReads: bigint('origin_reads', { mode: 'number' }).notNull().default(0),
    imageOps: bigint('image_ops', { mode: 'number' }).notNull().default(0),
    bytesServed: bigint('bytes_served', { mode: 'number' }).notNull().default(0),
    storageBytes: bigint('storage_bytes', { mode: 'number' }).notNull().default(0),
    filesCount: bigint('files_count', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.userId, t.day] })],
);
