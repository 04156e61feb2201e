/**
 * `api_keys.last_used_at`, written in batches: the hot path only records the time in a map;
 * a timer writes every pending key in one UPDATE every few seconds (and on shutdown), so a
 * key used 10 000 times a second costs one write per interval, not one per request.
 */
import { sql } from 'drizzle-orm';
import type { CoreDeps } from '../../deps';

export const LAST_USED_FLUSH_MS = 5_000;

/** The batched `last_used_at` writer of one app's API keys. */
export function createKeyLastUsedWriter(deps: CoreDeps) {
  let pending = new Map<string, number>();
  let timer: ReturnType<typeof setInterval> | null = null;
  let flushing: Promise<void> = Promise.resolve();

  async function write(batch: Map<string, number>): Promise<void> {
    if (batch.size === 0) return;
    const rows = [...batch].map(([id, at]) => sql`(${id}::uuid, ${new Date(at).toISOString()}::timestamptz)`);
    try {
      await deps.db.execute(sql`
        update api_keys set last_used_at = v.at
        from (values ${sql.join(rows, sql`, `)}) as v(id, at)
        where api_keys.id = v.id and (api_keys.last_used_at is null or api_keys.last_used_at < v.at)`);
    } catch (err) {
      deps.log.warn({ err, keys: batch.size }, 'could not record API key usage; will retry with the next batch');
      for (const [id, at] of batch) if (!pending.has(id)) pending.set(id, at);
    }
  }

  return {
    /** Records a use of the key now; never waits. */
    touch(keyId: string): void {
      pending.set(keyId, deps.clock.now());
      if (!timer) {
        timer = setInterval(() => void this.flush(), LAST_USED_FLUSH_MS);
        (timer as { unref?: () => void }).unref?.();
      }
    },
    /** Writes everything pending; concurrent calls queue behind each other. */
    flush(): Promise<void> {
      const batch = pending;
      pending = new Map();
      if (batch.size === 0 && timer) {
        clearInterval(timer); // idle: stop waking up until the next use
        timer = null;
      }
      flushing = flushing.then(() => write(batch));
      return flushing;
    },
  };
}
