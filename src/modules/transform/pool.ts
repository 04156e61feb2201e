/**
 * The bounded transform pool: at most `concurrency` renders run at once, at most `queue` wait,
 * and anything beyond answers 503 `OVERLOADED` with `Retry-After` at once, so a flood of cold
 * URLs costs a bounded amount of memory and CPU. Identical concurrent requests (same key)
 * share one render (single-flight): the 100th caller of a cold URL waits for the first render.
 */
import { overloaded } from '../../errors';

export interface PoolStats {
  in_flight: number;
  queued: number;
  rejected: number;
  completed: number;
}

export interface PoolOptions {
  concurrency: number;
  queue: number;
  /** A task still running after this is abandoned: its callers get 503 (the slot frees when it ends). */
  timeoutMs: number;
}

/** Seconds a rejected client should wait: roughly the time the current backlog needs. */
const RETRY_AFTER_S = 1;

export function createTransformPool(opts: PoolOptions) {
  let running = 0;
  let rejected = 0;
  let completed = 0;
  const waiting: (() => void)[] = [];
  const inFlight = new Map<string, Promise<unknown>>();

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };

  async function runBounded<T>(task: () => Promise<T>): Promise<T> {
    if (running >= opts.concurrency) {
      if (waiting.length >= opts.queue) {
        rejected++;
        throw overloaded('Too many images are being transformed right now; retry shortly.', RETRY_AFTER_S);
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running++;
    }
    const work = task().finally(() => {
      completed++;
      release();
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(overloaded('The transformation took too long and was abandoned.', RETRY_AFTER_S)), opts.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      work.catch(() => {}); // an abandoned task's late failure is not an unhandled rejection
    }
  }

  return {
    /** Runs `task` under the pool, sharing the result with identical concurrent calls of `key`. */
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const existing = inFlight.get(key);
      if (existing) return existing as Promise<T>;
      const p = runBounded(task).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
      return p;
    },
    stats: (): PoolStats => ({ in_flight: running, queued: waiting.length, rejected, completed }),
  };
}

export type TransformPool = ReturnType<typeof createTransformPool>;
