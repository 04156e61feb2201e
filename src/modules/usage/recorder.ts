/**
 * `deps.usage`: delivery usage (API.md §3 `origin_reads`, `image_ops`, `bytes_served`) counted
 * in memory per account and calendar month, and added to `usage_counters` in batches with one
 * upsert (`… on conflict do update set x = x + excluded.x`), so several processes sum up and
 * the request path costs a Map increment. Flushed every `intervalMs`, when many accounts are
 * pending, and on shutdown. A failed write puts its deltas back for the next flush: counts
 * are never lost while the process lives.
 *
 * Modules that keep their own counters (delivery/stats.ts, transform/usage.ts) hand them over
 * through `attachSource`, so one `flush()` drains everything into the table.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import type { Logger } from '../../logger';

export interface UsageDelta {
  originReads?: number;
  imageOps?: number;
  bytesServed?: number;
}

interface Pending {
  userId: string;
  period: string;
  originReads: number;
  imageOps: number;
  bytesServed: number;
}

/** Accounts per upsert statement; a flush with more pending runs several. */
const BATCH_ROWS = 500;
/** Pending accounts that trigger an early flush (bounds memory under many accounts). */
const EARLY_FLUSH_ROWS = 5_000;

/** `YYYY-MM-01` of the UTC calendar month containing `ms`. */
export function periodOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
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
  const sources: (() => Promise<void> | void)[] = [];
  let timer: ReturnType<typeof setInterval> | null = null;
  let chain: Promise<void> = Promise.resolve();

  function add(userId: string, period: string, d: Required<UsageDelta>): void {
    const k = `${userId}|${period}`;
    let e = pending.get(k);
    if (!e) {
      e = { userId, period, originReads: 0, imageOps: 0, bytesServed: 0 };
      pending.set(k, e);
    }
    e.originReads += d.originReads;
    e.imageOps += d.imageOps;
    e.bytesServed += d.bytesServed;
  }

  async function write(batch: Pending[]): Promise<void> {
    for (let i = 0; i < batch.length; i += BATCH_ROWS) {
      const part = batch.slice(i, i + BATCH_ROWS);
      const rows = part.map((p) => sql`(${p.userId}::uuid, ${p.period}::date, ${p.originReads}::bigint, ${p.imageOps}::bigint, ${p.bytesServed}::bigint)`);
      try {
        await o.db.execute(sql`
          insert into usage_counters (user_id, period, origin_reads, image_ops, bytes_served)
          select v.user_id, v.period, v.origin_reads, v.image_ops, v.bytes_served
          from (values ${sql.join(rows, sql`, `)}) as v(user_id, period, origin_reads, image_ops, bytes_served)
          where exists (select 1 from users u where u.id = v.user_id)
          on conflict (user_id, period) do update set
            origin_reads = usage_counters.origin_reads + excluded.origin_reads,
            image_ops = usage_counters.image_ops + excluded.image_ops,
            bytes_served = usage_counters.bytes_served + excluded.bytes_served,
            updated_at = now()`);
      } catch (err) {
        o.onFlushError?.();
        o.log.warn({ err: (err as Error).message, accounts: part.length }, 'usage flush failed; will retry with the next batch');
        for (const p of part) add(p.userId, p.period, p);
      }
    }
  }

  const recorder = {
    /** Adds to the caller's counters for the current month; never waits, never throws. */
    record(userId: string, delta: UsageDelta): void {
      add(userId, periodOf(o.now()), { originReads: delta.originReads ?? 0, imageOps: delta.imageOps ?? 0, bytesServed: delta.bytesServed ?? 0 });
      if (pending.size >= EARLY_FLUSH_ROWS) void recorder.flush();
    },
    /** Another module's counter store: drained into this recorder before each flush. */
    attachSource(drain: () => Promise<void> | void): void {
      sources.push(drain);
    },
    /** Drains every source and writes everything pending; concurrent calls queue behind each other. */
    flush(): Promise<void> {
      chain = chain.then(async () => {
        for (const drain of sources) {
          try {
            await drain();
          } catch (err) {
            o.log.warn({ err: (err as Error).message }, 'usage source failed to drain');
          }
        }
        const batch = [...pending.values()];
        pending = new Map();
        if (batch.length) await write(batch);
      });
      return chain;
    },
    /** Starts the periodic flush (idempotent). */
    start(): void {
      if (timer) return;
      timer = setInterval(() => void recorder.flush(), o.intervalMs ?? 5_000);
      (timer as { unref?: () => void }).unref?.();
    },
    /** Stops the timer and writes what is left (the shutdown step). */
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await recorder.flush();
    },
    /** Deltas not yet written (tests, stats). */
    pendingCount: (): number => pending.size,
  };
  return recorder;
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
