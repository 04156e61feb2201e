/**
 * Usage of delivery (API.md §3 `image_ops`, `bytes_served`): counted in memory per account on
 * the request path (a Map increment) and handed to a sink in batches every few seconds and at
 * shutdown, so counting never adds a database round trip to a cache hit.
 */
import type { AppDeps } from '../../deps';

export interface UsageDelta {
  userId: string;
  imageOps: number;
  bytesServed: number;
}

/** Receives each batch; the usage module installs one that adds the deltas to its table. */
export type UsageSink = (batch: UsageDelta[]) => Promise<void>;

const FLUSH_INTERVAL_MS = 5_000;

export function createUsageCounter(deps: Pick<AppDeps, 'log' | 'onShutdown'>) {
  let pending = new Map<string, UsageDelta>();
  let sink: UsageSink | null = null;
  const entry = (userId: string) => {
    let e = pending.get(userId);
    if (!e) {
      e = { userId, imageOps: 0, bytesServed: 0 };
      pending.set(userId, e);
    }
    return e;
  };

  async function flush(): Promise<void> {
    if (pending.size === 0 || !sink) return;
    const batch = [...pending.values()];
    pending = new Map();
    try {
      await sink(batch);
    } catch (err) {
      // Put the deltas back so the next flush retries them.
      for (const d of batch) {
        const e = entry(d.userId);
        e.imageOps += d.imageOps;
        e.bytesServed += d.bytesServed;
      }
      deps.log.warn({ err: (err as Error).message }, 'usage flush failed; will retry');
    }
  }
  const timer = setInterval(() => void flush(), FLUSH_INTERVAL_MS);
  timer.unref?.();
  deps.onShutdown(async () => {
    clearInterval(timer);
    await flush();
  });

  return {
    countImageOp: (userId: string) => void entry(userId).imageOps++,
    countBytes: (userId: string, bytes: number) => void (entry(userId).bytesServed += bytes),
    setSink: (s: UsageSink) => void (sink = s),
    flush,
    /** Deltas not yet flushed (for tests and stats). */
    pending: (): UsageDelta[] => [...pending.values()].map((d) => ({ ...d })),
  };
}

export type UsageCounter = ReturnType<typeof createUsageCounter>;
