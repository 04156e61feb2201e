import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/**
 * Uploaded files. `id` is the random public id used in every URL (base62, 12 chars ≈ 71 bits).
 * `storage_key` is where the bytes live in the storage driver; it is never derived from the
 * name. Deleting sets `deleted_at` and releases the usage counters in one transaction; the
 * row stays until the purge has removed the bytes, so a purge can never be forgotten.
 * `meta` caches the computed metadata (blurhash, dominant colour, EXIF) once asked for.
 */
export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    folder: text('folder').notNull().default('/'),
    contentType: text('content_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    width: integer('width'),
    height: integer('height'),
    isPublic: boolean('is_public').notNull().default(true),
    storageKey: text('storage_key').notNull(),
    /** The location-free copy served publicly (public-copy.ts); null when the original has no GPS. */
    publicStorageKey: text('public_storage_key'),
    publicSha256: text('public_sha256'),
    meta: jsonb('meta').$type<Record<string, unknown>>(),
    /** The owner's tags (lower-case, unique; files/tags.ts) and key/value metadata, filterable in the list. */
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    customMeta: jsonb('custom_meta').$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    // Keyset pagination per owner and sort key: the list's row comparison `(key, id) < ($1, $2)`
    // is an index condition on these, so a deep page reads only the rows it returns.
    index('files_user_created_idx').on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('files_user_name_idx').on(t.userId, t.name, t.id),
    index('files_user_size_idx').on(t.userId, t.size, t.id),
    // `count` of an unfiltered list subtracts the owner's expired files not yet swept.
    index('files_user_expires_idx').on(t.userId, t.expiresAt).where(sql`${t.expiresAt} is not null and ${t.deletedAt} is null`),
    index('files_user_folder_idx').on(t.userId, t.folder),
    // `sha256=` of the list: is this content already in the account (before or after an upload)?
    index('files_user_sha256_idx').on(t.userId, t.sha256).where(sql`${t.deletedAt} is null`),
    index('files_expires_at_idx').on(t.expiresAt).where(sql`${t.expiresAt} is not null and ${t.deletedAt} is null`),
    // `tag=` / `meta=` filters of the list: containment (`@>`) and key presence (`?`) use these.
    index('files_tags_idx').using('gin', t.tags),
    index('files_custom_meta_idx').using('gin', t.customMeta),
    index('files_deleted_at_idx').on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
  ],
);

export type FileRow = typeof files.$inferSelect;

/**
 * One-time upload URLs (`POST /api/uploads/presign`). Only the SHA-256 of the token is
 * stored; `used_at` is set atomically by the upload that consumes it.
 */
export const uploadTokens = pgTable(
  'upload_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    folder: text('folder').notNull().default('/'),
    maxSize: bigint('max_size', { mode: 'number' }),
    contentTypes: text('content_types').array(),
    isPublic: boolean('is_public').notNull().default(true),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('upload_tokens_expires_at_idx').on(t.expiresAt)],
);
