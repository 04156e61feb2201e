import { bigint, integer, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * De-duplicated bytes (issue #25): one stored object per distinct content (SHA-256) and storage
 * backend, shared by every file row whose `storage_key` (or `public_storage_key`) is this
 * `storage_key`. `refcount` counts those references and changes only in the transaction that
 * inserts a file row (files/blobs.ts `acquireBlob`) or releases a deleted one (`releaseBlobs`,
 * under this row's lock). A count of 0 marks bytes being deleted: an upload of the same content
 * then adopts its own freshly stored object instead of the dying one. Rows written before
 * de-duplication have no blob row and own their object alone.
 */
export const blobs = pgTable(
  'blobs',
  {
    backend: text('backend').notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    refcount: integer('refcount').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.backend, t.sha256] }),
    // Purge and the orphan sweep find a blob by the key a file row holds.
    uniqueIndex('blobs_backend_key_idx').on(t.backend, t.storageKey),
  ],
);

export type BlobRow = typeof blobs.$inferSelect;
