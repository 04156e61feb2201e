import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * Invite codes (`INV-` + 16 base62), single use: registration claims one with a guarded
 * update (`where used_at is null`), so two sign-ups racing for a code cannot both win.
 * `owner_id` is the account that may hand the code out (listed in its `GET /api/invites`).
 */
export const invites = pgTable(
  'invites',
  {
    code: text('code').primaryKey(),
    ownerId: uuid('owner_id').references(() => users.id, { onDelete: 'cascade' }),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    usedAt: ts('used_at'),
    usedBy: uuid('used_by').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [index('invites_owner_id_idx').on(t.ownerId)],
);

export type InviteRow = typeof invites.$inferSelect;
