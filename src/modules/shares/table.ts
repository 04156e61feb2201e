import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { files } from '../files/table';
import { users } from '../users/table';

/**
 * Protected share links (`/s/<token>`, issue #25). The token is the link itself (22 base62
 * characters ≈ 131 bits, unguessable), kept readable so the owner can list and copy the links,
 * like the file ids in every public URL. The optional password is an argon2id hash. `views`
 * is raised by one atomic update that also checks `max_views` and the expiry, so concurrent
 * viewers can never exceed the limit. Revoking deletes the row (the link is then 404).
 */
export const shareLinks = pgTable(
  'share_links',
  {
    id: text('id').primaryKey(),
    token: text('token').notNull().unique('share_links_token_key'),
    fileId: text('file_id').notNull().references(() => files.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    passwordHash: text('password_hash'),
    maxViews: integer('max_views'),
    views: integer('views').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }),
    lastViewedAt: timestamp('last_viewed_at', { withTimezone: true, precision: 3 }),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('share_links_file_idx').on(t.fileId, t.createdAt), index('share_links_user_idx').on(t.userId)],
);

export type ShareLinkRow = typeof shareLinks.$inferSelect;
