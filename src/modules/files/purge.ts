/**
 * Durable removal of bytes. A deleted or expired file keeps its row (with `deleted_at`) until
 * storage has confirmed the delete, so nothing is forgotten if storage is down: the sweeper
 * retries every `intervalMs` until it succeeds. (When the queue's `purge` jobs are wired in,
 * they call the same `purgeFile`.)
 */
import { and, eq, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { users } from '../users/table';
import { publishFileChanges } from '../cache/lookup';
import { softDeleteFiles } from './service';
import { files } from './table';

/** Deletes one soft-deleted file's bytes, then its row. Throws if storage fails (retry later). */
export async function purgeFile(deps: AppDeps, file: { id: string; storageKey: string; sha256?: string }): Promise<void> {
  await deps.storage.delete(file.storageKey);
  // Its derivatives go too, from memory and disk on every instance.
  if (file.sha256) await publishFileChanges(deps, [file.id], file.sha256);
  await deps.db.delete(files).where(and(eq(files.id, file.id), isNotNull(files.deletedAt)));
}

/** Purges up to `limit` soft-deleted files; returns how many succeeded. Failures stay for the next run. */
export async function purgeDeletedFiles(deps: AppDeps, limit = 200): Promise<number> {
  const rows = await deps.db.select({ id: files.id, storageKey: files.storageKey, sha256: files.sha256 })
    .from(files).where(isNotNull(files.deletedAt)).limit(limit);
  let done = 0;
  for (const row of rows) {
    try {
      await purgeFile(deps, row);
      done++;
    } catch (err) {
      deps.log.warn({ err, file_id: row.id }, 'purge failed; will retry');
    }
  }
  return done;
}

/** Marks expired files deleted and releases their usage, one account at a time. */
export async function expireFiles(deps: AppDeps, limit = 500): Promise<number> {
  const now = new Date(deps.clock.now());
  const expired = await deps.db.select({ id: files.id, userId: files.userId })
    .from(files).where(and(isNull(files.deletedAt), lte(files.expiresAt, now))).limit(limit);
  const byUser = new Map<string, string[]>();
  for (const f of expired) byUser.set(f.userId, [...(byUser.get(f.userId) ?? []), f.id]);
  let n = 0;
  for (const [userId, ids] of byUser) {
    n += await deps.db.transaction(async (tx) => {
      return (await softDeleteFiles(tx, userId, ids, now)).length;
    });
  }
  return n;
}

/**
 * Runs expiry and purge now and then every `intervalMs` (unref'd; stopped on shutdown).
 * `kick()` asks for a run soon, e.g. right after a delete.
 */
export function startFileSweeper(deps: AppDeps, intervalMs = 30_000) {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) return void (again = true);
    running = true;
    try {
      do {
        again = false;
        await expireFiles(deps);
        await purgeDeletedFiles(deps);
      } while (again);
    } catch (err) {
      deps.log.warn({ err }, 'file sweeper run failed; will retry');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref?.();
  let stopped = false;
  deps.onShutdown(() => {
    stopped = true;
    clearInterval(timer);
  });
  return { kick: () => (stopped ? undefined : void run()), run };
}

/** Usage counters recomputed from the table (for checks; the counters are kept exact by the writes). */
export async function usageFromTable(deps: AppDeps, userId: string) {
  const [row] = await deps.db.select({ bytes: sql<number>`coalesce(sum(${files.size}), 0)::bigint`, count: sql<number>`count(*)::int` })
    .from(files).where(and(eq(files.userId, userId), isNull(files.deletedAt)));
  const [u] = await deps.db.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users).where(eq(users.id, userId));
  return { tableBytes: Number(row?.bytes ?? 0), tableCount: row?.count ?? 0, storageBytes: u?.storageBytes ?? 0, filesCount: u?.filesCount ?? 0 };
}
