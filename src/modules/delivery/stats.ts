/**
 * Delivery counters (`origin_reads`, `bytes_served`) kept in memory per account and handed to
 * a sink in batches, so the hot path never writes to the database. The usage feature installs
 * the sink that persists them; until then they are logged at debug level.
 */
import type { AppDeps } from '../../deps';

export interface DeliveryCounts {
  originReads: number;
  bytesServed: number;
}

export type DeliverySink = (batch: Map<string, DeliveryCounts>) => Promise<void> | void;

export interface DeliveryStats {
  record(userId: string, bytes: number): void;
  /** Hands everything counted so far to the sink. */
  flush(): Promise<void>;
  setSink(sink: DeliverySink): void;
  /** Totals since start (for tests and metrics). */
  totals(): DeliveryCounts;
}

const registry = new WeakMap<AppDeps, DeliveryStats>();

/** The one counter set of an app instance, flushed every `intervalMs` and on shutdown. */
export function deliveryStats(deps: AppDeps, intervalMs = 10_000): DeliveryStats {
  const existing = registry.get(deps);
  if (existing) return existing;
  let pending = new Map<string, DeliveryCounts>();
  const total: DeliveryCounts = { originReads: 0, bytesServed: 0 };
  let sink: DeliverySink = (batch) => deps.log.debug({ accounts: batch.size }, 'delivery counters flushed');
  const flush = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await sink(batch);
    } catch (err) {
      deps.log.warn({ err }, 'delivery counter flush failed');
    }
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref?.();
  deps.onShutdown(async () => {
    clearInterval(timer);
    await flush();
  });
  const stats: DeliveryStats = {
    record(userId, bytes) {
      const c = pending.get(userId) ?? { originReads: 0, bytesServed: 0 };
      c.originReads++;
      c.bytesServed += bytes;
      pending.set(userId, c);
      total.originReads++;
      total.bytesServed += bytes;
    },
    flush,
    setSink: (s) => void (sink = s),
    totals: () => ({ ...total }),
  };
  registry.set(deps, stats);
  return stats;
}
