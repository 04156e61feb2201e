/**
 * Request logs (API.md §3 `GET /api/logs`): the batch insert the write buffer uses, the
 * caller's own entries newest first with keyset pagination on the entry id, and the
 * retention prune the queue's hourly `prune` job runs. Entries live in batch rows
 * (`table.ts`): listing walks the newest batches' entries in memory and stops as soon as a
 * page is full; counting sums the batches' `counts` and only opens a batch that straddles
 * `since`.
 */
import { and, desc, eq, gte, lte, not, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { errorText, isDatabaseUnavailable, validationError } from '../../errors';
import { cursorText, invalidCursor } from '../../lib/cursors';
import { parseTimeFilter } from '../../lib/dates';
import type { CoreDeps } from '../../deps';
import { createLogBuffer, type LogBuffer } from './buffer';
import { MAX_BATCH_ENTRIES, requestLogBatches, WRITE_BATCH_ENTRIES, type NewRequestLog, type RequestLogRow, type StoredBatch } from './table';

export const toLogJson = (r: RequestLogRow) => ({
  id: String(r.id),
  method: r.method,
  path: r.path,
  status_code: r.statusCode,
  duration_ms: r.durationMs,
  request_size_bytes: r.requestSizeBytes,
  response_size_bytes: r.responseSizeBytes,
  ip: r.ip,
  api_key_prefix: r.apiKeyPrefix,
  request_id: r.requestId,
  created_at: new Date(r.createdAt).toISOString(),
});

/** One account's entries (at most `MAX_BATCH_ENTRIES`) as a batch row. */
function batchRow(userId: string, part: readonly NewRequestLog[]): typeof requestLogBatches.$inferInsert {
  const counts: Record<string, number> = {};
  const contexts = new Map<string, number>();
  const stored: StoredBatch = { c: [], e: [] };
  let first = Infinity;
  let last = -Infinity;
  for (const r of part) {
    if (r.createdAt < first) first = r.createdAt;
    if (r.createdAt > last) last = r.createdAt;
  }
  for (const r of part) {
    const k = `${r.method} ${r.statusCode} ${credentialTag(r.apiKeyPrefix ?? null)}`;
    counts[k] = (counts[k] ?? 0) + 1;
    const ip = r.ip ?? null;
    const prefix = r.apiKeyPrefix ?? null;
    const ck = `${r.method} ${ip} ${prefix} ${r.path}`;
    let ci = contexts.get(ck);
    if (ci === undefined) {
      contexts.set(ck, (ci = stored.c.length));
      stored.c.push([r.method, r.path, ip, prefix]);
    }
    stored.e.push([ci, r.statusCode, Math.round(r.durationMs * 100) / 100, r.requestSizeBytes ?? null, r.responseSizeBytes ?? null, r.createdAt - first, r.requestId ?? null]);
  }
  return { userId, entryCount: part.length, firstAt: new Date(first), lastAt: new Date(last), counts, entries: JSON.stringify(stored) };
}

/** A stored batch, parsed: its entries are read by position, and built into rows only when wanted. */
class ParsedBatch {
  private readonly stored: StoredBatch;
  private readonly base: number;
  constructor(private readonly batchId: number, firstAt: Date, entries: string) {
    this.stored = JSON.parse(entries) as StoredBatch;
    this.base = firstAt.getTime();
  }

  get length(): number {
    return this.stored.e.length;
  }

  /** Whether entry `i` passes the filter, without building its row. */
  matches(f: Filter, i: number): boolean {
    const e = this.stored.e[i]!;
    const c = this.stored.c[e[0]]!;
    return matches(f, c[0], e[1], this.base + e[5], c[3]);
  }

  row(i: number): RequestLogRow {
    const [ci, statusCode, durationMs, requestSizeBytes, responseSizeBytes, after, requestId] = this.stored.e[i]!;
    const [method, path, ip, apiKeyPrefix] = this.stored.c[ci]!;
    return {
      id: this.batchId * MAX_BATCH_ENTRIES + i, method, path, statusCode, durationMs, requestSizeBytes, responseSizeBytes, ip, apiKeyPrefix,
      requestId: requestId ?? null, createdAt: this.base + after,
    };
  }
}

/**
 * Inserts a batch as one row per account (and per `MAX_BATCH_ENTRIES`), with one statement;
 * entries keep batch order, so ids follow request order.
 */
export async function insertLogs(db: Db, rows: readonly NewRequestLog[]): Promise<void> {
  if (!rows.length) return;
  const byUser = new Map<string, NewRequestLog[]>();
  for (const r of rows) {
    const list = byUser.get(r.userId);
    if (list) list.push(r);
    else byUser.set(r.userId, [r]);
  }
  const values: (typeof requestLogBatches.$inferInsert)[] = [];
  for (const [userId, list] of byUser) {
    for (let i = 0; i < list.length; i += MAX_BATCH_ENTRIES) values.push(batchRow(userId, list.slice(i, i + MAX_BATCH_ENTRIES)));
  }
  await db.insert(requestLogBatches).values(values);
}

const encodeCursor = (id: number) => Buffer.from(`l${id}`).toString('base64url');

/** `l<id>`: ids are read as JS numbers, so one past 2^53 was never issued (and would page wrongly). */
function decodeCursor(cursor: string): number {
  const m = /^l(\d{1,16})$/.exec(cursorText(cursor));
  const id = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw invalidCursor('is not a cursor this API returned', 'Invalid cursor.');
  return id;
}

export interface LogQuery {
  /** An exact status (`404`) or a class (`4xx`). */
  status?: string;
  method?: string;
  /** ISO-8601 timestamp: entries at or after it. */
  since?: string;
  /** `session`, `api_key` (any key) or one key's prefix (`pk_` and 9 more characters). */
  credential?: string;
  limit?: number;
  cursor?: string;
}

/** Who made a request, as its `counts` key's third word: the key's prefix, or `-` for a session. */
const credentialTag = (prefix: string | null) => prefix ?? '-';

type CredentialFilter = { session: true } | { anyKey: true } | { prefix: string };

interface Filter {
  method?: string;
  /** Inclusive status range. */
  status?: [number, number];
  sinceMs?: number;
  credential?: CredentialFilter;
}

/** The methods the API's routes answer (a request log holds nothing else). */
export const LOGGED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function parseFilter(q: LogQuery): Filter {
  const f: Filter = {};
  if (q.method) {
    f.method = q.method.toUpperCase();
    // A method no request has matches nothing: `FOOBAR` answered an empty page without a word.
    if (!LOGGED_METHODS.includes(f.method)) {
      throw validationError('Invalid method filter.', [{ path: '/method', message: `must be one of ${LOGGED_METHODS.join(', ')} (any case)`, in: 'query' }]);
    }
  }
  if (q.status) {
    const cls = /^([1-5])(?:xx|XX)$/.exec(q.status);
    if (cls) f.status = [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
    else if (/^[1-5]\d\d$/.test(q.status)) f.status = [Number(q.status), Number(q.status)];
    else throw validationError('Invalid status filter.', [{ path: '/status', message: 'must be a status code (404) or a class (4xx)' }]);
  }
  if (q.since !== undefined) f.sinceMs = parseTimeFilter(q.since, 'since');
  if (q.credential !== undefined) {
    if (q.credential === 'session') f.credential = { session: true };
    else if (q.credential === 'api_key') f.credential = { anyKey: true };
    else if (/^pk_[A-Za-z0-9]{9}$/.test(q.credential)) f.credential = { prefix: q.credential };
    else throw validationError('Invalid credential filter.', [{ path: '/credential', message: 'must be session, api_key or a key prefix such as pk_AbC123xyz' }]);
  }
  return f;
}

const credentialMatches = (c: CredentialFilter, prefix: string | null): boolean =>
  'session' in c ? prefix === null : 'anyKey' in c ? prefix !== null : prefix === c.prefix;

const matches = (f: Filter, method: string, status: number, at: number, prefix: string | null): boolean =>
  (f.credential === undefined || credentialMatches(f.credential, prefix))
  && (f.method === undefined || method === f.method)
  && (f.status === undefined || (status >= f.status[0] && status <= f.status[1]))
  && (f.sinceMs === undefined || at >= f.sinceMs);

/**
 * SQL over a `counts` key (`"GET 200 pk_AbC123xyz"`): does it fall in the filter? Keys written
 * before the credential was counted have two words; `unknownCredential` says what they count as.
 */
function keyCondition(f: Filter, key: SQL, unknownCredential: boolean): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.method !== undefined) parts.push(sql`split_part(${key}, ' ', 1) = ${f.method}`);
  if (f.status !== undefined) parts.push(sql`split_part(${key}, ' ', 2)::int between ${f.status[0]} and ${f.status[1]}`);
  const c = f.credential;
  if (c !== undefined) {
    const tag = sql`split_part(${key}, ' ', 3)`;
    const cond = 'session' in c ? sql`${tag} = '-'` : 'anyKey' in c ? sql`${tag} not in ('', '-')` : sql`${tag} = ${c.prefix}`;
    parts.push(unknownCredential ? sql`(${tag} = '' or ${cond})` : cond);
  }
  return sql.join(parts, sql` and `);
}

/** A batch written before `counts` named the credential: its entries are read to filter by one. */
const LEGACY_COUNTS = sql`exists (select 1 from jsonb_object_keys(${requestLogBatches.counts}) k where split_part(k, ' ', 3) = '')`;

/** Batch-level conditions: the account, a `since` bound, and "may hold a matching method/status/credential". */
function batchConditions(userId: string, f: Filter): SQL[] {
  const where: SQL[] = [eq(requestLogBatches.userId, userId)];
  if (f.sinceMs !== undefined) where.push(gte(requestLogBatches.lastAt, new Date(f.sinceMs)));
  if (f.method !== undefined || f.status !== undefined || f.credential !== undefined) {
    where.push(sql`exists (select 1 from jsonb_object_keys(${requestLogBatches.counts}) k where ${keyCondition(f, sql`k`, true)})`);
  }
  return where;
}

/** Batches fetched per round trip while filling a page. */
const BATCHES_PER_READ = 8;

/** The caller's own entries, newest first; `count` covers every page of the filter. */
export async function listLogs(db: Db, userId: string, q: LogQuery) {
  const limit = q.limit ?? 50;
  const f = parseFilter(q);
  const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
  const [[results, more], count] = await Promise.all([readPage(db, userId, f, limit, cursor), countLogs(db, userId, f)]);
  const last = results[results.length - 1];
  return { results: results.map(toLogJson), count, next_cursor: more && last ? encodeCursor(last.id) : null };
}

async function readPage(db: Db, userId: string, f: Filter, limit: number, cursor: number | undefined): Promise<[RequestLogRow[], boolean]> {
  const out: RequestLogRow[] = [];
  // Entries below `before` (an entry id) are wanted; batches at or below `maxBatch` may hold them.
  const before = cursor ?? Number.MAX_SAFE_INTEGER;
  let maxBatch = Math.floor(before / MAX_BATCH_ENTRIES);
  const where = batchConditions(userId, f);
  for (;;) {
    const batches = await db.select({ id: requestLogBatches.id, firstAt: requestLogBatches.firstAt, entries: requestLogBatches.entries }).from(requestLogBatches)
      .where(and(...where, lte(requestLogBatches.id, maxBatch))).orderBy(desc(requestLogBatches.id)).limit(BATCHES_PER_READ);
    for (const b of batches) {
      const batch = new ParsedBatch(b.id, b.firstAt, b.entries);
      // Newest first; in the cursor's own batch, only positions below it.
      for (let i = Math.min(batch.length, before - b.id * MAX_BATCH_ENTRIES) - 1; i >= 0; i--) {
        if (!batch.matches(f, i)) continue;
        if (out.length === limit) return [out, true];
        out.push(batch.row(i));
      }
    }
    if (batches.length < BATCHES_PER_READ) return [out, false];
    maxBatch = batches[batches.length - 1]!.id - 1;
  }
}

/**
 * Entries matching the filter: the `counts` of every batch wholly after `since`, plus the
 * entries of the few batches that straddle it (and, filtering by credential, of batches
 * written before `counts` named it), read one by one.
 */
async function countLogs(db: Db, userId: string, f: Filter): Promise<number> {
  const where = batchConditions(userId, f);
  const summable: SQL[] = [];
  if (f.sinceMs !== undefined) summable.push(gte(requestLogBatches.firstAt, new Date(f.sinceMs)));
  if (f.credential !== undefined) summable.push(not(LEGACY_COUNTS));
  const [summed] = await db.select({
    n: sql<number>`coalesce(sum((select coalesce(sum(c.value::int), 0) from jsonb_each_text(${requestLogBatches.counts}) c
      where ${keyCondition(f, sql`c.key`, false)})), 0)::int`,
  }).from(requestLogBatches).where(and(...where, ...summable));
  let n = Number(summed?.n ?? 0);
  if (summable.length) {
    const opened = await db.select({ id: requestLogBatches.id, firstAt: requestLogBatches.firstAt, entries: requestLogBatches.entries })
      .from(requestLogBatches).where(and(...where, not(and(...summable)!)));
    for (const b of opened) {
      const batch = new ParsedBatch(b.id, b.firstAt, b.entries);
      for (let i = 0; i < batch.length; i++) if (batch.matches(f, i)) n++;
    }
  }
  return n;
}

/**
 * Deletes batches whose newest entry is older than `retentionDays` (a batch spans about a
 * second), in chunks so one prune never holds a huge lock. Returns the entries removed.
 */
export async function pruneLogs(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionDays * 86_400_000).toISOString();
  let removed = 0;
  for (;;) {
    const rows = await db.execute<{ n: number }>(sql`
      delete from request_log_batches where id in (
        select id from request_log_batches where last_at < ${before}::timestamptz limit 1000)
      returning entry_count as n`);
    const list = (Array.isArray(rows) ? rows : ((rows as { rows?: { n: number }[] }).rows ?? [])) as { n: number }[];
    for (const r of list) removed += Number(r.n);
    if (list.length < 1000) return removed;
  }
}

/** The request-log write buffer of one app (built once by `buildDeps`), flushed in batches and on shutdown. */
export function createRequestLogBuffer(deps: Pick<CoreDeps, 'config' | 'db' | 'log' | 'metrics' | 'onShutdown'>): LogBuffer<NewRequestLog> {
  const m = deps.metrics;
  const buffer = createLogBuffer<NewRequestLog>({
    capacity: deps.config.requestLogs.bufferSize,
    batchSize: WRITE_BATCH_ENTRIES,
    write: (rows) => insertLogs(deps.db, rows),
    retryable: isDatabaseUnavailable,
    onDrop: (n) => m.requestLogsDropped.inc(n),
    onWritten: (n) => m.requestLogsWritten.inc(n),
    onError: (err, n) => deps.log.warn({ err: errorText(err), entries: n }, 'request-log batch failed; entries dropped'),
  });
  m.addCollector(() => m.requestLogsBuffered.set(buffer.size()));
  deps.onShutdown(() => buffer.close());
  return buffer;
}
