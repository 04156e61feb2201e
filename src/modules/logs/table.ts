import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Request logs of authenticated calls (API.md §3 `GET /api/logs`), stored as one row per
 * account per written batch (`logs/buffer.ts`), not one row per request. Logging runs at
 * thousands of entries a second; a row per entry cost a heap tuple, two index entries and the
 * statement's per-row work each (paid on the request thread on embedded PGlite, where the
 * database runs in-process), a batch row costs that once per batch (part 3 of
 * `bun bench/micro.ts` compares the two). Listing reads the newest batches and walks their
 * entries; `counts` lets `count` and the method/status filters skip batches without reading
 * their entries.
 *
 * An entry's public id is `id * 10 000 + position` (position 0-based in the batch), so ids keep
 * increasing in request order; a batch holds at most `MAX_BATCH_ENTRIES` entries.
 */
export const requestLogBatches = pgTable(
  'request_log_batches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // No foreign key on purpose: entries of a removed account age out with the retention.
    userId: uuid('user_id').notNull(),
    entryCount: integer('entry_count').notNull(),
    firstAt: timestamp('first_at', { withTimezone: true, precision: 3 }).notNull(),
    lastAt: timestamp('last_at', { withTimezone: true, precision: 3 }).notNull(),
    /** Entries per `"<METHOD> <status>"`, e.g. `{"GET 200": 480, "POST 413": 2}`. */
    counts: jsonb('counts').$type<Record<string, number>>().notNull(),
    /** A `StoredBatch` as JSON (text, not json: nothing parses it on insert). */
    entries: text('entries').notNull(),
  },
  (t) => [
    index('request_log_batches_user_id_idx').on(t.userId, t.id.desc()),
    index('request_log_batches_last_at_idx').on(t.lastAt),
  ],
);

/** At most this many entries per batch row, and the id stride above. */
export const MAX_BATCH_ENTRIES = 10_000;

/**
 * Entries per write. Embedded PGlite spends about a millisecond of the request thread per
 * statement whatever its size, so bigger statements cost less per entry (docs/TUNING.md,
 * "Measurements behind code choices"). A partial batch still goes out after a second.
 */
export const WRITE_BATCH_ENTRIES = 2000;

/**
 * The entries of a batch. What repeats across a busy account's requests (method, path, IP, key)
 * is stored once per batch in `c`; each entry in `e` points at its context and carries the
 * rest, its time as milliseconds after `first_at`: far fewer bytes per entry than a plain
 * tuple, and the insert cost follows the bytes (compression, WAL, the driver's encoding).
 */
export interface StoredBatch {
  /** Contexts: `[method, path, ip, api_key_prefix]`. */
  c: [string, string, string | null, string | null][];
  /**
   * Entries in request order: `[context, status, duration_ms, request_size, response_size, ms_after_first_at, request_id]`.
   * Batches written before the request id was logged have six elements.
   */
  e: [number, number, number, number | null, number | null, number, (string | null)?][];
}

/** An entry as the request hook produces it. */
export interface NewRequestLog {
  userId: string;
  method: string;
  path: string;
  statusCode: number;
  durationMs: number;
  requestSizeBytes?: number | null;
  responseSizeBytes?: number | null;
  ip?: string | null;
  apiKeyPrefix?: string | null;
  /** The request's `X-Request-Id` (what a 500's `details.request_id` names). */
  requestId?: string | null;
  /** Epoch milliseconds (a number: one less object per request). */
  createdAt: number;
}

/** An entry as `GET /api/logs` reads it back. */
export interface RequestLogRow extends Required<Omit<NewRequestLog, 'userId'>> {
  id: number;
}
