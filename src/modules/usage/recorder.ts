/**
 * `deps.usage`: delivery usage (API.md §3 `origin_reads`, `image_ops`, `bytes_served`) counted
 * (plus uploads) in memory per account and UTC day, and added to `usage_daily` and the month's
 * `usage_counters` in batches with one
 * upsert (`… on conflict do update set x = x + excluded.x`), so several processes sum up and
 * the request path costs a Map increment. Flushed every `intervalMs` (from the first count on),
 * when many accounts are pending, and on shutdown. A failed write puts its deltas back for the
 * next flush: counts are never lost while the process lives.
 *
 * Every feature counts here directly: originals served (delivery/routes.ts), derivatives served
 * and rendered (transform/), uploads (files/ingest.ts).
 */
import { sql } from 'drizzle-orm';
import { errorText } from '../../errors';
import type { Db } from '../../db/client';
import type { Logger } from '../../logger';

export interface UsageDelta {
  originReads?: number;
  imageOps?: number;
  bytesServed?: number;
  /** Completed uploads (daily table only; the month's file count is the account's). */
  uploads?: number;
  uploadBytes?: number;
}

interface Pending {
  userId: string;
  /** `YYYY-MM-DD` (UTC); the month row is its first seven characters plus `-01`. */
  day: string;
  originReads: number;
  imageOps: number;
  bytesServed: number;
  uploads: number;
  uploadBytes: number;
}

/** Accounts per upsert statement; a flush with more pending runs several. */
const BATCH_ROWS = 500;
/** Pending accounts that trigger an early flush (bounds memory under many accounts). */
const EARLY_FLUSH_ROWS = 5_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-01` of the UTC calendar month containing `ms`. */
export function periodOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

/** `YYYY-MM-DD` of the UTC day containing `ms`. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface UsageRecorderOptions {
  db: Db;
  log: Logger;
  now: () => number;
  intervalMs?: number;
  onFlushError?: () => void;
}

export function createUsageRecorder(o: UsageRecorderOptions) {
  let pending = new Map<string, Pending>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  // The current UTC day, formatted again only when the clock leaves it: `record` runs on every
  // cache hit. A range, not a high-water mark, because test clocks may move backwards.
  let today = '';
  let todayStart = 0;
  let todayEnd = 0;
  /** Today's entries of `pending` by account, so a count for today needs no key string. */
  let todays = new Map<string, Pending>();

  function currentDay(): string {
    const now = o.now();
    if (now < todayStart || now >= todayEnd) {
      todayStart = Math.floor(now / DAY_MS) * DAY_MS;
      todayEnd = todayStart + DAY_MS;
      today = dayOf(now);
      todays = new Map();
    }
    return today;
  }

  function entryOf(userId: string, day: string): Pending {
    const isToday = day === today;
    let e = isToday ? todays.get(userId) : undefined;
    if (e) return e;
    const k = `${userId}|${day}`;
    e = pending.get(k);
    if (!e) {
      e = { userId, day, originReads: 0, imageOps: 0, bytesServed: 0, uploads: 0, uploadBytes: 0 };
      pending.set(k, e);
    }
    if (isToday) todays.set(userId, e);
    return e;
  }

  function add(userId: string, day: string, d: UsageDelta): void {
    const e = entryOf(userId, day);
    e.originReads += d.originReads ?? 0;
    e.imageOps += d.imageOps ?? 0;
    e.bytesServed += d.bytesServed ?? 0;
    e.uploads += d.uploads ?? 0;
    e.uploadBytes += d.uploadBytes ?? 0;
  }

  async function write(batch: Pending[]): Promise<void> {
    for (let i = 0; i < batch.length; i += BATCH_ROWS) {
      const part = batch.slice(i, i + BATCH_ROWS);
      // One month row may collect several days of a batch (a flush across midnight): summed
      // first, since one upsert statement may not update the same row twice.
      const months = new Map<string, { userId: string; period: string; originReads: number; imageOps: number; bytesServed: number }>();
      for (const p of part) {
        const period = `${p.day.slice(0, 7)}-01`;
        const m = months.get(`${p.userId}|${period}`) ?? { userId: p.userId, period, originReads: 0, imageOps: 0, bytesServed: 0 };
        m.originReads += p.originReads;
        m.imageOps += p.imageOps;
        m.bytesServed += p.bytesServed;
        months.set(`${p.userId}|${period}`, m);
      }
      const rows = [...months.values()].map((p) => sql`(${p.userId}::uuid, ${p.period}::date, ${p.originReads}::bigint, ${p.imageOps}::bigint, ${p.bytesServed}::bigint)`);
      const days = part.map((p) => sql`(${p.userId}::uuid, ${p.day}::date, ${p.uploads}::bigint, ${p.uploadBytes}::bigint, ${p.originReads}::bigint, ${p.imageOps}::bigint, ${p.bytesServed}::bigint)`);
      try {
        // One transaction: a failed batch is put back whole, so neither table counts it twice.
        await o.db.transaction(async (tx) => {
          await tx.execute(sql`
            insert into usage_daily (user_id, day, uploads, upload_bytes, origin_reads, image_ops, bytes_served, storage_bytes, files_count)
            select v.user_id, v.day, v.uploads, v.upload_bytes, v.origin_reads, v.image_ops, v.bytes_served, u.storage_bytes, u.files_count
            from (values ${sql.join(days, sql`, `)}) as v(user_id, day, uploads, upload_bytes, origin_reads, image_ops, bytes_served)
            join users u on u.id = v.user_id
            on conflict (user_id, day) do update set
              uploads = usage_daily.uploads + excluded.uploads,
              upload_bytes = usage_daily.upload_bytes + excluded.upload_bytes,
              origin_reads = usage_daily.origin_reads + excluded.origin_reads,
              image_ops = usage_daily.image_ops + excluded.image_ops,
              bytes_served = usage_daily.bytes_served + excluded.bytes_served,
              storage_bytes = excluded.storage_bytes,
              files_count = excluded.files_count`);
          await tx.execute(sql`
            insert into usage_counters (user_id, period, origin_reads, image_ops, bytes_served)
            select v.user_id, v.period, v.origin_reads, v.image_ops, v.bytes_served
            from (values ${sql.join(rows, sql`, `)}) as v(user_id, period, origin_reads, image_ops, bytes_served)
            where exists (select 1 from users u where u.id = v.user_id)
            on conflict (user_id, period) do update set
              origin_reads = usage_counters.origin_reads + excluded.origin_reads,
              image_ops = usage_counters.image_ops + excluded.image_ops,
              bytes_served = usage_counters.bytes_served + excluded.bytes_served,
              updated_at = now()`);
        });
      } catch (err) {
        o.onFlushError?.();
        o.log.warn({ err: errorText(err), accounts: part.length }, 'usage flush failed; will retry with the next batch');
        for (const p of part) add(p.userId, p.day, p);
      }
    }
  }

  /** Starts the flush timer with the first count, and flushes early when many accounts wait. */
  function scheduleFlush(): void {
    if (!timer && !closed) {
      timer = setInterval(() => void recorder.flush(), o.intervalMs ?? 5_000);
      (timer as { unref?: () => void }).unref?.();
    }
    if (pending.size >= EARLY_FLUSH_ROWS) void recorder.flush();
  }

  const recorder = {
    /** Adds to the account's counters of the current day and month; never waits, never throws. */
    record(userId: string, delta: UsageDelta): void {
      add(userId, currentDay(), delta);
      scheduleFlush();
    },
    /** `record(userId, { bytesServed })` for the cache-hit paths: no delta object per request. */
    recordBytesServed(userId: string, bytes: number): void {
      entryOf(userId, currentDay()).bytesServed += bytes;
      scheduleFlush();
    },
    /** Writes everything pending; concurrent calls queue behind each other. */
    flush(): Promise<void> {
      chain = chain.then(async () => {
        const batch = [...pending.values()];
        pending = new Map();
        todays = new Map();
        if (batch.length) await write(batch);
      });
      return chain;
    },
    /** Stops the timer and writes what is left (the shutdown step). */
    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      await recorder.flush();
    },
    /** Accounts × days with deltas not yet written (tests, stats). */
    pendingCount: (): number => pending.size,
    /** One account's deltas not yet written, summed over days (tests). */
    pendingOf(userId: string): Required<UsageDelta> {
      const sum = { originReads: 0, imageOps: 0, bytesServed: 0, uploads: 0, uploadBytes: 0 };
      for (const p of pending.values()) {
        if (p.userId !== userId) continue;
        sum.originReads += p.originReads;
        sum.imageOps += p.imageOps;
        sum.bytesServed += p.bytesServed;
        sum.uploads += p.uploads;
        sum.uploadBytes += p.uploadBytes;
      }
      return sum;
    },
  };
  return recorder;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
