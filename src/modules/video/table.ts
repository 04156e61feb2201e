import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Video renditions kept in the storage for processes with another derivative cache (stored.ts):
 * one row per stored object, so their total is bounded (`VIDEO_STORED_BYTES`, least recently
 * used first) and they go with their original's bytes. No foreign key: bytes are shared by
 * files (keyed by sha256) and outlive any one file row.
 */
export const videoRenditions = pgTable(
  'video_renditions',
  {
    /** The storage key, `renditions/<sha256>/<variant>.<ext>`. */
    key: text('key').primaryKey(),
    sha256: text('sha256').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    /** When it was stored or last copied into a process's cache (microseconds: the order of uses decides what goes). */
    usedAt: timestamp('used_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [index('video_renditions_sha256_idx').on(t.sha256), index('video_renditions_used_idx').on(t.usedAt)],
);
