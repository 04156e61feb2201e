import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Accounts. `email` is stored lower-cased (unique); `token_version` is bumped by logout-all and
 * password changes so live access tokens carrying an older version are refused.
 * `storage_bytes` / `files_count` are the exact usage counters, written in the same
 * transaction as the file rows they count. The settings columns are the per-account
 * preferences of API.md §3 (`src/modules/users/settings.ts`).
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['user', 'admin'] }).notNull().default('user'),
    isPromoted: boolean('is_promoted').notNull().default(false),
    isBanned: boolean('is_banned').notNull().default(false),
    emailVerified: boolean('email_verified').notNull().default(false),
    tokenVersion: integer('token_version').notNull().default(0),
    storageBytes: bigint('storage_bytes', { mode: 'number' }).notNull().default(0),
    filesCount: integer('files_count').notNull().default(0),
    // Per-account settings (API.md §3); null = the plan's / server's default.
    publicUrlBase: text('public_url_base'),
    maxUploadSizeBytes: bigint('max_upload_size_bytes', { mode: 'number' }),
    defaultIsPublic: boolean('default_is_public').notNull().default(true),
    /** Seconds after upload at which new files expire by default; null = never. */
    defaultExpiresIn: integer('default_expires_in'),
    /** Named watermarks (transform/watermarks.ts): name → layer spec such as `l_<file id>,lg_south_east,lw_0.2`. */
    watermarks: jsonb('watermarks').$type<Record<string, string>>().notNull().default({}),
    /** A watermark name drawn on every public render of the account's images (`/i` originals refused); null = none. */
    forceWatermark: text('force_watermark'),
    /** Whether this account's public files get an embed page (`/v/:id`) and oEmbed answers. */
    embedsEnabled: boolean('embeds_enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email), index('users_created_at_idx').on(t.createdAt)],
);

export type UserRow = typeof users.$inferSelect;
