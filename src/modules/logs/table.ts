import { bigint, index, integer, pgTable, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from '../users/table';

/**
 * Request logs of authenticated calls (API.md §3 `GET /api/logs`), written in batches off the
 * request path (`logs/buffer.ts`) and pruned after `LOG_RETENTION_DAYS`. `path` is stored
 * already stripped of query secrets and token-looking segments. The index serves the
 * newest-first keyset page of one account and the prune by age.
 */
export const requestLogs = pgTable(
  'request_logs',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    method: text('method').notNull(),
    path: text('path').notNull(),
    statusCode: integer('status_code').notNull(),
    durationMs: real('duration_ms').notNull(),
    requestSizeBytes: bigint('request_size_bytes', { mode: 'number' }),
    responseSizeBytes: bigint('response_size_bytes', { mode: 'number' }),
    ip: text('ip'),
    apiKeyPrefix: text('api_key_prefix'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    index('request_logs_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('request_logs_created_idx').on(t.createdAt),
  ],
);

export type RequestLogRow = typeof requestLogs.$inferSelect;
export type NewRequestLog = typeof requestLogs.$inferInsert;
