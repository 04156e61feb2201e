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
