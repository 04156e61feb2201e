import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/** One S3 multipart part already uploaded (number and ETag, for CompleteMultipartUpload). */
export interface TusPart {
  n: number;
  etag: string;
}

/**
 * Resumable (tus) uploads in progress. Everything a PATCH needs to continue lives here, so an
 * upload goes on after a restart or on another process sharing the database and storage:
 * the offset, whether the running SHA-256 was lost (`hash_state` 'rehash': a chunk went to a
 * process without it; the file is then read once at the end), the first
 * bytes (for sniffing the type), the storage's own state (S3 upload id, parts, the size of the
 * sub-part tail kept as its own object). `lock_*` is a lease: one PATCH at a time per upload,
 * across processes. The row goes when the file is committed, terminated or expired.
 */
export const tusUploads = pgTable(
  'tus_uploads',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The file id and storage key the upload becomes (chosen at creation). */
    fileId: text('file_id').notNull(),
    storageKey: text('storage_key').notNull(),
    /** Null while the length is deferred (`Upload-Defer-Length: 1`). */
    length: bigint('length', { mode: 'number' }),
    offset: bigint('offset', { mode: 'number' }).notNull().default(0),
    /** The per-file limit that applied at creation (account, plan, presign policy). */
    maxBytes: bigint('max_bytes', { mode: 'number' }).notNull(),
    /** Raw `Upload-Metadata` (echoed by HEAD) and the parsed attributes the file gets. */
    metadata: text('metadata'),
    attrs: jsonb('attrs').$type<{
      name?: string; folder: string; is_public: boolean; expires_at: string | null; declared?: string; allowed_types?: string[];
      /** `expires_in` as asked: it counts from when the file is stored, not from the creation. */
      expires_in?: number;
      tags?: string[]; custom_meta?: Record<string, string>; transformations?: string[];
      /** Started from a presigned URL: its token's digest, given back when the upload ends without a file. */
      upload_token?: string;
    }>().notNull(),
    hashState: text('hash_state'),
    /** Base64 of the first bytes (up to the sniff window). */
    head: text('head').notNull().default(''),
    contentType: text('content_type'),
    s3UploadId: text('s3_upload_id'),
    parts: jsonb('parts').$type<TusPart[]>().notNull().default([]),
    tailSize: integer('tail_size').notNull().default(0),
    /** Presigned uploads: the upload URL is the credential; otherwise the owner must authenticate. */
    viaToken: boolean('via_token').notNull().default(false),
    /**
     * What the deferred-length PATCH holding the lease may bring in all (its offset plus its
     * chunk, or what the quota left when the chunk's size was not declared): counted against the
     * quota by the account's other uploads while the lease is live, so two PATCHes at once cannot
     * each take the same room.
     */
    reserved: bigint('reserved', { mode: 'number' }).notNull().default(0),
    lockId: text('lock_id'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('tus_uploads_expires_at_idx').on(t.expiresAt), index('tus_uploads_user_idx').on(t.userId)],
);

export type TusUploadRow = typeof tusUploads.$inferSelect;

/**
 * Finished uploads, kept until the upload URL would have expired: a client whose last PATCH
 * answer was lost asks again (HEAD) and learns the upload is whole and which file it became,
 * as tusd answers for a finished upload, instead of a 404 that tus clients take as "start
 * again" (a second copy). Nothing else reads these rows; the sweep removes them when expired.
 */
export const tusFinished = pgTable(
  'tus_finished',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    fileId: text('file_id').notNull(),
    length: bigint('length', { mode: 'number' }).notNull(),
    viaToken: boolean('via_token').notNull().default(false),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('tus_finished_expires_at_idx').on(t.expiresAt)],
);

export type TusFinishedRow = typeof tusFinished.$inferSelect;
