import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/**
 * The moderation audit trail: one row per admin action on another account's file (who, when,
 * which file, which action). File ids are kept as text without a foreign key and the actor's
 * email is copied, so an entry outlives the purge of the file and the deletion of either account.
 */
export const adminAudit = pgTable(
  'admin_audit',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    actorEmail: text('actor_email').notNull(),
    action: text('action', { enum: ['file.view', 'file.delete'] }).notNull(),
    fileId: text('file_id').notNull(),
    ownerId: uuid('owner_id').references(() => users.id, { onDelete: 'set null' }),
    /** What the file was at the time (name, content type, size), for after it is gone. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    // Keyset paging newest first, and the trail of one file.
    index('admin_audit_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('admin_audit_file_idx').on(t.fileId),
  ],
);

export type AdminAuditRow = typeof adminAudit.$inferSelect;
export type AuditAction = AdminAuditRow['action'];
