import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { enqueueJob } from './enqueue';
import { backoffDelay, JobCancelledError } from './runner';
import { jobEvents, jobs } from './table';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test('backoff grows exponentially with bounded jitter', () => {
  expect(backoffDelay(1, 100, 10_000, () => 0.5)).toBe(100);
  expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(400);
  expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(300);
  expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(500);
  expect(backoffDelay(20, 100, 10_000, () => 0.5)).toBe(10_000);
  // The cap holds after the jitter (WEBHOOK_RETRY_MAX_MS=1000 waited up to 1 125 ms).
  expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
});

describe.each(DB_BACKENDS)('queue core on %s', (db) => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: { QUEUE_CONCURRENCY: '4', QUEUE_POLL_MS: '50', QUEUE_LEASE_MS: '3000' } });
  }, 60_000);
  afterAll(() => h.close());

  test('enqueue inside a transaction: rollback leaves no job, commit leaves one (acceptance 4)', async () => {
    const q = h.deps.db;
    await q
      .transaction(async (tx) => {
        await enqueueJob(tx, { type: 'test.outbox', payload: { n: 1 } });
        throw new Error('upload failed after enqueue');
      })
      .catch(() => {});
    expect(await q.select().from(jobs).where(eq(jobs.type, 'test.outbox'))).toHaveLength(0);
    expect(await q.select().from(jobEvents).where(sql`${jobEvents.data}->>'type' = 'test.outbox'`)).toHaveLength(0);
    const created = await q.transaction(async (tx) => enqueueJob(tx, { type: 'test.outbox', payload: { n: 2 } }));
    const rows = await q.select().from(jobs).where(eq(jobs.type, 'test.outbox'));
    expect(rows.map((r) => r.id)).toEqual([created!.id]);
    expect(rows[0]!.payload).toEqual({ n: 2 });
    const events = await q.select().from(jobEvents).where(eq(jobEvents.jobId, created!.id));
    expect(events.map((e) => e.type)).toEqual(['job.created']);
  });

  test('unique keys dedupe; priorities and run_at order the claims', async () => {
    const order: string[] = [];
    h.deps.queue.register('test.order', async ({ job }) => void order.push(String(job.payload.name)));
    const q = h.deps.queue;
    expect(await q.enqueue({ type: 'test.order', payload: { name: 'low' }, priority: -5 })).not.toBeNull();
    expect(await q.enqueue({ type: 'test.order', payload: { name: 'high' }, priority: 10, uniqueKey: 'only-once' })).not.toBeNull();
    expect(await q.enqueue({ type: 'test.order', payload: { name: 'dup' }, uniqueKey: 'only-once' })).toBeNull();
    expect(await q.enqueue({ type: 'test.order', payload: { name: 'later' }, runAt: new Date(Date.now() + 60_000) })).not.toBeNull();
    expect(await q.enqueue({ type: 'test.order', payload: { name: 'mid' } })).not.toBeNull();
    // One at a time so the order is the claim order.
    const ran: number[] = [];
    for (let i = 0; i < 4; i++) ran.push(await runOne());
    expect(order).toEqual(['high', 'mid', 'low']);
    const [later] = await h.deps.db.select().from(jobs).where(sql`${jobs.payload}->>'name' = 'later'`);
    expect(later!.status).toBe('pending');
  });

  /** Claims and runs at most one job. */
  async function runOne(): Promise<number> {
    const saved = h.deps.queue.settings.concurrency;
    h.deps.queue.settings.concurrency = 1;
    try {
      return await h.deps.queue.runPending(1);
    } finally {
      h.deps.queue.settings.concurrency = saved;
    }
  }

  test('failing handler: retried with growing delays, then failed with last_error (acceptance 3)', async () => {
    const seen: number[] = [];
    h.deps.queue.register(
      'test.fail',
      async () => {
        seen.push(Date.now());
        throw new Error('storage says no');
      },
      { backoffBaseMs: 100 },
    );
    const job = await h.deps.queue.enqueue({ type: 'test.fail', maxAttempts: 4 });
    await h.deps.queue.start();
    try {
      const done = await waitFor('job to fail', async () => {
        const [row] = await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id));
        return row?.status === 'failed' ? row : null;
      });
      expect(done.attempts).toBe(4);
      expect(done.lastError).toBe('storage says no');
      expect(done.finishedAt).not.toBeNull();
      expect(seen).toHaveLength(4);
      // The delay the queue scheduled for each retry (run_at − the failure's time, both from the
      // database): base 100 ms doubling, ±25 % jitter → [75,125], [150,250], [300,500].
      const retries = await h.deps.db.select().from(jobEvents)
        .where(sql`${jobEvents.jobId} = ${job!.id} and ${jobEvents.type} = 'job.retrying'`).orderBy(jobEvents.id);
      const delays = retries.map((e) => new Date(String(e.data.run_at)).getTime() - e.createdAt.getTime());
      expect(delays).toHaveLength(3);
      delays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(75 * 2 ** i - 2);
        expect(d).toBeLessThanOrEqual(125 * 2 ** i + 2);
      });
      // The runs really waited for them.
      seen.slice(1).forEach((t, i) => expect(t - seen[i]!).toBeGreaterThanOrEqual(75 * 2 ** i - 5));
      const events = await h.deps.db.select().from(jobEvents).where(eq(jobEvents.jobId, job!.id)).orderBy(jobEvents.id);
      expect(events.map((e) => e.type)).toEqual([
        'job.created', 'job.started', 'job.retrying', 'job.started', 'job.retrying', 'job.started', 'job.retrying', 'job.started', 'job.failed',
      ]);
    } finally {
      await h.deps.queue.stop();
    }
  });

  test('cancelling a running job stops it at its next check', async () => {
    let checks = 0;
    h.deps.queue.register('test.long', async (ctx) => {
      for (let i = 0; i < 400; i++) {
        checks++;
        await ctx.checkpoint();
        await sleep(25);
      }
    });
    const job = await h.deps.queue.enqueue({ type: 'test.long' });
    await h.deps.queue.start();
    try {
      await waitFor('job to start', async () => (await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id)))[0]?.status === 'running');
      await h.deps.db.update(jobs).set({ cancelRequested: true }).where(eq(jobs.id, job!.id));
      const row = await waitFor('job to be cancelled', async () => {
        const [r] = await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id));
        return r?.status === 'cancelled' ? r : null;
      });
      expect(row.attempts).toBe(1);
      expect(checks).toBeLessThan(400);
      // The row turns 'cancelled' a moment before the runner drops the job from its in-flight set.
      await waitFor('runner to let the job go', async () => h.deps.queue.inFlight() === 0);
    } finally {
      await h.deps.queue.stop();
    }
    expect(new JobCancelledError().name).toBe('JobCancelledError');
  });

  test('an attempt that fails after a cancel was asked for ends the job cancelled, not retried (its retries ran: a webhook sent twice more)', async () => {
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let runs = 0;
    h.deps.queue.register('test.cancel-fail', async () => {
      runs++;
      await held; // a handler without checkpoints (an outbound request that hangs, then fails)
      throw new Error('the endpoint timed out');
    }, { backoffBaseMs: 50 });
    const job = await h.deps.queue.enqueue({ type: 'test.cancel-fail', maxAttempts: 5 });
    await h.deps.queue.start();
    try {
      await waitFor('job to start', async () => (await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id)))[0]?.status === 'running');
      await h.deps.db.update(jobs).set({ cancelRequested: true }).where(eq(jobs.id, job!.id));
      release();
      const row = await waitFor('job to end', async () => {
        const [r] = await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id));
        return r && r.status !== 'running' ? r : null;
      });
      expect([row.status, row.attempts, row.finishedAt !== null]).toEqual(['cancelled', 1, true]);
      const events = await h.deps.db.select().from(jobEvents).where(eq(jobEvents.jobId, job!.id)).orderBy(jobEvents.id);
      expect(events.map((e) => e.type)).toEqual(['job.created', 'job.started', 'job.cancelled']);
      await waitFor('runner to let the job go', async () => h.deps.queue.inFlight() === 0);
      expect(runs).toBe(1);
    } finally {
      await h.deps.queue.stop();
    }
  });

  test('stop() releases a claimed job without counting the attempt', async () => {
    h.deps.queue.register('test.stuck', async (ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      throw new Error('interrupted');
    });
    const job = await h.deps.queue.enqueue({ type: 'test.stuck' });
    await h.deps.queue.start();
    await waitFor('job to start', async () => (await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id)))[0]?.status === 'running');
    await h.deps.queue.stop();
    const [row] = await h.deps.db.select().from(jobs).where(eq(jobs.id, job!.id));
    expect(row!.status).toBe('pending');
    expect(row!.attempts).toBe(0);
    expect(row!.lockedBy).toBeNull();
    await h.deps.db.delete(jobs).where(eq(jobs.id, job!.id));
  });
});
