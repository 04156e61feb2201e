import { bigint, index, integer, pgTable, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Request logs of authenticated calls (API.md §3 `GET /api/logs`), written in batches off the
 * request path (`logs/buffer.ts`) and pruned after `LOG_RETENTION_DAYS`. `path` is stored
 * already stripped of query secrets and token-looking segments. Logging must stay cheap at
 * thousands of rows a second, so the table has a sequential id and only two indexes: one
 * account's entries newest first (keyset on `id`), and a BRIN on `created_at` for the prune.
 */
export const requestLogs = pgTable(
  'request_logs',
  {
    // Sequential: appends to the primary-key index are cheap, and id order is insertion order.
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // No foreign key on purpose: its per-row check doubled the insert cost; rows of a removed account age out with the retention.
    userId: uuid('user_id').notNull(),
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
    index('request_logs_user_id_idx').on(t.userId, t.id.desc()),
    // Append-only by time: a BRIN index is tiny and nearly free to maintain, and enough for the prune.
    index('request_logs_created_brin').using('brin', t.createdAt),
  ],
);

export type RequestLogRow = typeof requestLogs.$inferSelect;
export type NewRequestLog = typeof requestLogs.$inferInsert;
