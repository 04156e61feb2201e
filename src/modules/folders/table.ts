import { index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/**
 * Folders per account, as normalised absolute paths (`/a/b`). A file's `folder` always has a
 * row here (uploads create missing ancestors), so empty folders can exist and be listed.
 */
export const folders = pgTable(
  'folders',
  {
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    parent: text('parent').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.path] }), index('folders_user_parent_idx').on(t.userId, t.parent)],
);

export type FolderRow = typeof folders.$inferSelect;
