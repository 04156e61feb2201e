/**
 * The queue object on `deps.queue`: the handler registry and the worker that runs them.
 *
 * Each feature registers its job types once, in its `jobs.ts` (`registerJobs` in src/jobs.ts
 * calls them all); any process that calls `start()` (the API with `QUEUE_CONCURRENCY` > 0, or
 * `npm run worker`) then claims due jobs of the registered types, at most `concurrency` at a
 * time. A job holds a lease that is renewed every third of its length while the handler runs;
 * each renewal also reads the job's cancel flag, which aborts `ctx.signal`. Failures go back
 * to `pending` with exponential backoff and jitter until `max_attempts`. `stop()` aborts
 * running handlers, waits briefly, and hands their jobs back to the queue.
 *
 * PGlite has one connection and serialises transactions: a handler must not call
 * `ctx.setProgress`/`ctx.checkpoint` (which use the database) from inside its own open
 * transaction, and callers must enqueue with their transaction handle, never `deps.db`.
 */
import { hostname } from 'node:os';
import { errorText, isDatabaseUnavailable } from '../../errors';
import type { Database, Db } from '../../db/client';
import type { Logger } from '../../logger';
import { enqueueJob, type EnqueueOptions } from './enqueue';
import { createEventHub } from './events';
import { JOBS_CHANNEL } from './sql';
import {
  claimJobs, completeJobs, failJob, markCancelled, reapExpiredLeases, recordProgress, releaseJobs, renewLeases,
} from './statements';
import type { JobRow } from './table';

/** Thrown by `ctx.checkpoint()` (or by a handler itself) to end a job as `cancelled`. */
export class JobCancelledError extends Error {
  /** `reason`: why the handler gave up, kept as the job's `last_error` (else the last failed attempt's stays). */
  constructor(readonly reason?: string) {
    super(reason ?? 'The job was cancelled.');
    this.name = 'JobCancelledError';
  }
}

export interface JobContext {
  job: JobRow;
  db: Db;
  log: Logger;
  /** Aborted when a cancel is requested, the lease is lost, or the worker shuts down. */
  signal: AbortSignal;
  /** Records progress (0–100) and publishes `job.progress`; throws `JobCancelledError` if cancelled. */
  setProgress(percent: number): Promise<void>;
  /** Throws `JobCancelledError` if a cancel was requested (cooperative cancellation point). */
  checkpoint(): Promise<void>;
}

export type JobHandler = (ctx: JobContext) => Promise<void>;

export interface HandlerOptions {
  /** First retry delay; each further attempt doubles it (with ±25 % jitter). Default 1 s. */
  backoffBaseMs?: number;
  /** Longest retry delay. Default 1 h. */
  backoffMaxMs?: number;
  /** Run once per period across all instances (the sweep jobs). */
  periodMs?: number;
  /**
   * Yields to uploads: not claimed while this process receives one (`holdBackground`), for at
   * most `deferMs`; an overdue one then runs, one at a time. For work an upload only makes
   * ready ahead of need (eager derivatives, which a request renders on demand anyway).
   */
  background?: boolean;
}

export interface QueueSettings {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** How long `background` jobs wait while uploads arrive (0: they never wait). */
  deferMs?: number;
}

/**
 * After the last upload ends, background jobs wait this much longer: a client sending files one
 * after another leaves gaps of a round trip between them, which are not idle time.
 */
const QUIET_MS = 250;

interface Running {
  job: JobRow;
  controller: AbortController;
  /** Settles once the outcome is recorded. */
  finished: Promise<void>;
}

/** Retry delay after `attempt` failed attempts: base·2^(attempt−1), capped, with ±25 % jitter. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // The jitter spreads retries; the cap holds after it (it went 25 % past WEBHOOK_RETRY_MAX_MS).
  return Math.min(maxMs, Math.round(exp * (0.75 + random() * 0.5)));
}

export type Queue = ReturnType<typeof createQueue>;

export function createQueue(database: Database, log: Logger, settings: QueueSettings) {
  const db = database.db;
  const workerId = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const handlers = new Map<string, { fn: JobHandler; opts: HandlerOptions }>();
  /** Told of each job this worker saw fail for good (webhooks' `job.failed`). */
  const failedListeners = new Set<(job: JobRow) => void>();
  const running = new Map<string, Running>();
  let started = false;
  let stopping = false;
  let ticking = false;
  let again = false;
  let lastReap = 0;
  /** Uploads in progress in this process, and when background jobs may run again after the last. */
  let holds = 0;
  let quietUntil = 0;
  const deferMs = settings.deferMs ?? 0;
  const yielding = () => deferMs > 0 && (holds > 0 || performance.now() < quietUntil);
  const isBackground = (type: string) => handlers.get(type)?.opts.background === true;
  /** Looks for overdue background jobs at most once per poll interval (one query each). */
  let lastOverdueCheck = 0;
  const overdueCheckDue = () => {
    const now = performance.now();
    if (now - lastOverdueCheck < Math.min(deferMs, settings.pollMs)) return false;
    lastOverdueCheck = now;
    return true;
  };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let unlisten: (() => Promise<void>) | null = null;
  const events = createEventHub(database, log);

  // Group commit: completions that arrive while a flush is in flight share the next statement.
  let completions: { id: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let flushing: Promise<void> | null = null;
  function flushCompletions(): Promise<void> {
    flushing ??= (async () => {
      try {
        while (completions.length) {
          const batch = completions;
          completions = [];
          try {
            await completeJobs(db, workerId, batch.map((c) => c.id));
            batch.forEach((c) => c.resolve());
          } catch (err) {
            batch.forEach((c) => c.reject(err));
          }
        }
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  }
  const complete = (id: string) =>
    new Promise<void>((resolve, reject) => {
      completions.push({ id, resolve, reject });
      void flushCompletions();
    });

  function runJob(job: JobRow): Promise<void> {
    const controller = new AbortController();
    const finished = executeJob(job, controller);
    running.set(job.id, { job, controller, finished });
    return finished;
  }

  async function executeJob(job: JobRow, controller: AbortController): Promise<void> {
    const entry = handlers.get(job.type);
    const ctx: JobContext = {
      job,
      db,
      log: log.child({ job_id: job.id, job_type: job.type }),
      signal: controller.signal,
      setProgress: async (percent) => {
        const cancel = await recordProgress(db, workerId, job.id, percent, settings.leaseMs);
        if (cancel === null) controller.abort('lease lost');
        if (cancel) controller.abort('cancel');
        if (cancel !== false) throw new JobCancelledError();
      },
      checkpoint: async () => {
        if (!controller.signal.aborted) {
          const held = await renewLeases(db, workerId, [job.id], settings.leaseMs);
          const cancel = held.get(job.id);
          if (cancel === undefined) controller.abort('lease lost');
          else if (cancel) controller.abort('cancel');
        }
        if (controller.signal.aborted) throw new JobCancelledError();
      },
    };
    let outcome: 'completed' | 'error' = 'completed';
    let error: unknown;
    try {
      if (!entry) throw new Error(`no handler registered for job type ${job.type}`);
      await entry.fn(ctx);
    } catch (err) {
      outcome = 'error';
      error = err;
    }
    const reason = controller.signal.aborted ? String(controller.signal.reason) : null;
    const started = Date.now();
    /**
     * Writes the outcome, again while the database is away, as long as the job's lease (renewed
     * last when it ran) surely holds: given up at once, a job done during a short outage ran again
     * after its lease and spent an attempt (a flapping database could fail it for good).
     */
    const persist = async <T>(write: () => Promise<T>): Promise<T> => {
      for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
        try {
          return await write();
        } catch (err) {
          if (!isDatabaseUnavailable(err) || stopping || Date.now() + wait - started > settings.leaseMs / 2) throw err;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    };
    try {
      if (reason === 'lease lost') {
        // Another worker owns the job now; its outcome is theirs to record.
      } else if (outcome === 'completed') {
        // Work that finished counts even if a cancel or shutdown arrived meanwhile. The slot is
        // free already: the next claim overlaps this (batched) completion.
        freeSlot(job.id);
        await persist(() => complete(job.id));
      } else if (reason === 'shutdown') {
        // stop() hands the job back to the queue.
      } else if (reason === 'cancel' || error instanceof JobCancelledError) {
        await persist(() => markCancelled(db, workerId, job.id, error instanceof JobCancelledError ? error.reason : undefined));
      } else {
        const opts = entry?.opts ?? {};
        const delay = backoffDelay(job.attempts, opts.backoffBaseMs ?? 1000, opts.backoffMaxMs ?? 3_600_000);
        // Shown to the job's owner (`last_error`): never a failed query's parameters.
        const message = errorText(error);
        const row = await persist(() => failJob(db, workerId, job.id, message, delay));
        if (row?.status === 'failed') {
          ctx.log.warn({ attempts: row.attempts, err: message }, 'job failed for good');
          for (const listener of failedListeners) listener(row);
        }
        else if (row) wakeAfter(delay);
      }
    } catch (err) {
      // The database down is an outage, not a bug: a warning (its lines would bury real errors).
      ctx.log[isDatabaseUnavailable(err) ? 'warn' : 'error']({ err }, 'could not record the job outcome; its lease will expire and it will be retried');
    } finally {
      freeSlot(job.id);
    }
  }

  function freeSlot(id: string): void {
    if (!running.delete(id)) return;
    if (started && !stopping) void tick();
  }

  function wakeAfter(ms: number): void {
    if (!started) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void tick();
    }, ms + 5);
    timer.unref?.();
    timers.add(timer);
  }

  async function reapIfDue(): Promise<void> {
    const now = Date.now();
    if (now - lastReap < Math.min(1000, settings.leaseMs / 2)) return;
    lastReap = now;
    await reapExpiredLeases(db);
  }

  async function tick(): Promise<void> {
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      do {
        again = false;
        if (stopping) break;
        await reapIfDue();
        const free = settings.concurrency - running.size;
        if (free <= 0) break;
        const types = [...handlers.keys()];
        const yieldNow = yielding();
        const claimed = await claimJobs(db, workerId, yieldNow ? types.filter((t) => !isBackground(t)) : types, free, settings.leaseMs);
        if (yieldNow && claimed.length < free && overdueCheckDue() && ![...running.values()].some((r) => isBackground(r.job.type))) {
          // Uploads keep arriving: background jobs overdue by `deferMs` still run, one at a time.
          claimed.push(...await claimJobs(db, workerId, types.filter(isBackground), 1, settings.leaseMs, deferMs));
        }
        for (const job of claimed) void runJob(job);
        if (claimed.length === free) again = true;
      } while (again && !stopping);
    } catch (err) {
      log.warn({ err }, 'queue poll failed; retrying on the next tick');
    } finally {
      ticking = false;
    }
  }

  async function renewAll(): Promise<void> {
    const ids = [...running.keys()];
    if (ids.length === 0) return;
    try {
      const held = await renewLeases(db, workerId, ids, settings.leaseMs);
      for (const id of ids) {
        const r = running.get(id);
        if (!r || r.controller.signal.aborted) continue;
        const cancel = held.get(id);
        if (cancel === undefined) r.controller.abort('lease lost');
        else if (cancel) r.controller.abort('cancel');
      }
    } catch (err) {
      log.warn({ err }, 'lease renewal failed');
    }
  }

  /** Enqueues periodic jobs for the current period; the unique key makes it once per period cluster-wide. */
  async function schedulePeriodic(): Promise<void> {
    for (const [type, { opts }] of handlers) {
      if (!opts.periodMs) continue;
      const period = Math.floor(Date.now() / opts.periodMs);
      try {
        await enqueueJob(db, { type, uniqueKey: `${type}@${period}`, runAt: new Date(period * opts.periodMs), priority: -1 });
      } catch (err) {
        log.warn({ err, type }, 'could not schedule periodic job');
      }
    }
  }

  async function stop(graceMs = 5000): Promise<void> {
    if (!started) return;
    stopping = true;
    started = false;
    for (const t of timers) clearInterval(t);
    timers.clear();
    await unlisten?.().catch(() => {});
    unlisten = null;
    const inFlight = [...running.values()];
    for (const r of inFlight) r.controller.abort('shutdown');
    await Promise.race([
      Promise.allSettled(inFlight.map((r) => r.finished)),
      new Promise((r) => setTimeout(r, graceMs).unref?.()),
    ]);
    await flushCompletions();
    const released = await releaseJobs(db, workerId, inFlight.map((r) => r.job.id));
    if (released) log.info({ released }, 'released claimed jobs back to the queue');
  }

  return {
    workerId,
    settings,
    /** The SSE hub of `/api/queue/events`. */
    events,

    /**
     * Registers the handler of a job type. A type has one owner (its feature's `jobs.ts`): a
     * second registration throws rather than silently replacing the first.
     */
    register(type: string, fn: JobHandler, opts: HandlerOptions = {}): void {
      if (handlers.has(type)) throw new Error(`job type "${type}" is already registered`);
      handlers.set(type, { fn, opts });
    },

    /** Calls `listener` with each job that fails for good in this worker (attempts spent). */
    onFailed(listener: (job: JobRow) => void): void {
      failedListeners.add(listener);
    },

    /** Enqueues this period's periodic jobs (also done by `start()` and every minute after). */
    schedulePeriodic,

    /** The registered job types. */
    types: (): string[] => [...handlers.keys()],

    /** Enqueues on the database itself (and wakes this process's worker); inside a transaction call `enqueueJob(tx, …)` instead. */
    async enqueue(spec: EnqueueOptions): Promise<JobRow | null> {
      const row = await enqueueJob(db, spec);
      if (row && started) void tick();
      return row;
    },

    /**
     * Tells this process's worker that jobs were just committed (`enqueueJob(tx, …)` inside a
     * transaction that has committed), so it claims them now rather than at its next poll;
     * `onlyBackground` when every job committed is a `background` one.
     */
    wake(onlyBackground = false): void {
      // Background jobs wait for the uploads to end, whose release ticks: no claim now.
      if (started && !(onlyBackground && yielding())) void tick();
    },

    /**
     * Marks an upload in progress in this process until the returned function is called:
     * `background` jobs wait meanwhile (up to `deferMs`), so the upload gets the CPU.
     */
    holdBackground(): () => void {
      holds++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        holds--;
        if (holds > 0 || deferMs === 0) return;
        quietUntil = performance.now() + QUIET_MS;
        wakeAfter(QUIET_MS);
      };
    },

    /** Uploads holding background jobs back in this process right now. */
    holding: (): number => holds,

    /** Number of jobs this process is running right now. */
    inFlight: (): number => running.size,

    /** Starts claiming jobs: on NOTIFY from any instance, after each finished job, and every `pollMs`. */
    async start(): Promise<void> {
      if (started || settings.concurrency <= 0) return;
      started = true;
      stopping = false;
      unlisten = await database.listen(JOBS_CHANNEL, () => void tick(), () => void tick());
      const poll = setInterval(() => void tick(), settings.pollMs);
      const renew = setInterval(() => void renewAll(), Math.max(50, Math.floor(settings.leaseMs / 3)));
      const periodic = setInterval(() => void schedulePeriodic(), 60_000);
      for (const t of [poll, renew, periodic]) {
        t.unref?.();
        timers.add(t);
      }
      await schedulePeriodic();
      void tick();
    },

    /**
     * Stops claiming, aborts running handlers (`ctx.signal`), waits up to `graceMs` for them,
     * then releases whatever this worker still holds back to `pending`.
     */
    stop,

    /** Shutdown: stops the worker and ends every event stream. */
    async close(): Promise<void> {
      await stop();
      await events.close();
    },

    /**
     * Runs due jobs in this process until none are left (tests and one-shot maintenance);
     * needs no `start()`. Returns how many jobs ran.
     */
    async runPending(limit = 10_000): Promise<number> {
      let ran = 0;
      while (ran < limit) {
        await reapExpiredLeases(db);
        const claimed = await claimJobs(db, workerId, [...handlers.keys()], Math.max(1, settings.concurrency), settings.leaseMs);
        if (claimed.length === 0) break;
        await Promise.all(claimed.map((j) => runJob(j)));
        ran += claimed.length;
      }
      return ran;
    },
  };
}
