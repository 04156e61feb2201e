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
  /** Renders abandoned at TRANSFORM_TIMEOUT_MS (their callers got 503). */
  timed_out: number;
}

export interface PoolOptions {
  concurrency: number;
  queue: number;
  /**
   * A task not done this long after it was asked for (queue wait included) is abandoned: its
   * callers get 503 and its signal aborts, so the render starts no further stage and sharp's
   * own timeout stops the running one; one still waiting never starts. Its slot frees only when
   * the task has really ended, so abandoned work never runs beside a full pool.
   */
  timeoutMs: number;
  /** Called when the last running task ends and none waits (the service returns freed memory then). */
  onIdle?: () => void;
}

/** Seconds a rejected client should wait: roughly the time the current backlog needs. */
const RETRY_AFTER_S = 1;

export function createTransformPool(opts: PoolOptions) {
  let running = 0;
  let rejected = 0;
  let completed = 0;
  let timedOut = 0;
  const waiting: (() => void)[] = [];
  const inFlight = new Map<string, Promise<unknown>>();

  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    } else if (running === 0) {
      opts.onIdle?.();
    }
  };

  async function runBounded<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (running >= opts.concurrency && waiting.length >= opts.queue) {
      rejected++;
      throw overloaded('Too many images are being transformed right now; retry shortly.', RETRY_AFTER_S);
    }
    // The clock starts with the request, not with its turn: a caller waits at most timeoutMs in
    // all, and a task whose caller has already had its 503 never starts.
    const abandon = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut++;
        abandon.abort();
        reject(overloaded('The transformation took too long and was abandoned.', RETRY_AFTER_S));
      }, opts.timeoutMs);
    });
    timeout.catch(() => {});
    let work: Promise<T> | undefined;
    try {
      if (running >= opts.concurrency) {
        let start: () => void = () => {};
        const turn = new Promise<void>((resolve) => waiting.push((start = resolve)));
        try {
          await Promise.race([turn, timeout]);
        } catch (err) {
          const i = waiting.indexOf(start);
          if (i >= 0) waiting.splice(i, 1);
          else release(); // handed the slot in the same tick as the timeout: give it back
          throw err;
        }
      } else {
        running++;
      }
      work = task(abandon.signal).finally(() => {
        completed++;
        release();
      });
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      work?.catch(() => {}); // an abandoned task's late failure is not an unhandled rejection
    }
  }

  return {
    /** Runs `task` under the pool, sharing the result with identical concurrent calls of `key`. */
    run<T>(key: string, task: (signal: AbortSignal) => Promise<T>): Promise<T> {
      const existing = inFlight.get(key);
      if (existing) return existing as Promise<T>;
      const p = runBounded(task).finally(() => inFlight.delete(key));
      inFlight.set(key, p);
      return p;
    },
    stats: (): PoolStats => ({ in_flight: running, queued: waiting.length, rejected, completed, timed_out: timedOut }),
  };
}

export type TransformPool = ReturnType<typeof createTransformPool>;
