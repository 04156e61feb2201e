/**
 * The queue across processes (Postgres only: PGlite is an in-process database that one
 * process owns, so two workers cannot share it). Two worker processes drain 1 000 jobs, a
 * worker is SIGKILLed mid-job, a worker is stopped gracefully, and an SSE client in this
 * process receives the events the workers produced.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../helpers/app';
import { readSse } from '../helpers/sse';
import { createApiKey } from '../../src/modules/keys/service';
import { users } from '../../src/modules/users/table';
import { enqueueJobs } from '../../src/modules/queue/enqueue';
import { jobEvents, jobs, type JobRow } from '../../src/modules/queue/table';

const ROOT = resolve(import.meta.dir, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  proc: ChildProcess;
  workerId: string;
  exited: Promise<number | null>;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('queue with two worker processes on postgres', () => {
  let h: TestApp;
  let adminKey: string;
  const workers: Worker[] = [];

  function startWorker(env: Record<string, string> = {}): Promise<Worker> {
    const proc = spawn(process.execPath, ['test/queue/worker-fixture.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: h.deps.config.databaseUrl!, DATA_DIR: h.dataDir, LOG_LEVEL: 'info', QUEUE_CONCURRENCY: '8', QUEUE_POLL_MS: '200', DATABASE_POOL: '4', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    let out = '';
    return new Promise<Worker>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`worker did not start:\n${out}`)), 20_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const m = /"worker_id":"([^"]+)".*"msg":"worker started"|"msg":"worker started".*"worker_id":"([^"]+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          const w = { proc, workerId: m[1] ?? m[2]!, exited };
          workers.push(w);
          res(w);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void exited.then((code) => rej(new Error(`worker exited with ${code}:\n${out}`)));
    });
  }

  const getJob = async (id: string): Promise<JobRow | undefined> => (await h.deps.db.select().from(jobs).where(eq(jobs.id, id)))[0];

  beforeAll(async () => {
    h = await makeTestApp({ db: 'postgres' });
    await h.deps.db.execute(sql`create table queue_test_runs (job_id uuid not null, pid int not null)`);
    const [admin] = await h.deps.db.insert(users).values({ email: 'root@example.test', passwordHash: 'x', role: 'admin' }).returning();
    adminKey = (await createApiKey(h.deps.db, admin!.id, { scopes: ['queue:read', 'admin'] })).key;
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    await h.close();
  });

  test('1 000 jobs, two workers: each completed exactly once, stats consistent, events arrive here (acceptance 1, 5)', async () => {
    const sse = readSse((await h.request('/api/queue/events', { headers: { authorization: `Bearer ${adminKey}` } })).body!);
    await sse.until((_, c) => c.includes('connected'));
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    for (let i = 0; i < 10; i++) {
      await enqueueJobs(h.deps.db, Array.from({ length: 100 }, (_, k) => ({ type: 'test.count', payload: { n: i * 100 + k } })));
    }
    await waitFor('1000 completions', async () => {
      const [r] = await h.deps.db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(sql`${jobs.type} = 'test.count' and ${jobs.status} = 'completed'`);
      return r!.n === 1000;
    });
    const runs = await h.deps.db.execute(sql`select count(*)::int as runs, count(distinct job_id)::int as distinct_jobs, count(distinct pid)::int as pids from queue_test_runs`);
    const row = (Array.isArray(runs) ? runs[0] : (runs as unknown as { rows: unknown[] }).rows[0]) as { runs: number; distinct_jobs: number; pids: number };
    expect(Number(row.runs)).toBe(1000);
    expect(Number(row.distinct_jobs)).toBe(1000);
    expect(Number(row.pids)).toBe(2);
    const stats = await (await h.request('/api/queue/stats', { headers: { authorization: `Bearer ${adminKey}` } })).json();
    expect(stats.by_type['test.count']).toEqual({ pending: 0, running: 0, completed: 1000, failed: 0, cancelled: 0 });
    const attempts = await h.deps.db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(sql`${jobs.type} = 'test.count' and ${jobs.attempts} <> 1`);
    expect(attempts[0]!.n).toBe(0);
    // Every completion, produced by the worker processes, reached this process's SSE client once.
    await sse.until((ev) => ev.filter((e) => e.event === 'job.completed').length >= 1000);
    const completed = sse.events.filter((e) => e.event === 'job.completed').map((e) => (JSON.parse(e.data) as { job_id: string }).job_id);
    expect(completed).toHaveLength(1000);
    expect(new Set(completed).size).toBe(1000);
    await sse.close();
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 90_000);

  test('a worker SIGKILLed mid-job: the other retries it after the lease expires (acceptance 2)', async () => {
    const a = await startWorker({ QUEUE_LEASE_MS: '1000' });
    const [job] = await enqueueJobs(h.deps.db, [{ type: 'test.slow', payload: { ms: 60_000 }, maxAttempts: 3 }]);
    await waitFor('job claimed by A', async () => (await getJob(job!.id))?.lockedBy === a.workerId);
    a.proc.kill('SIGKILL');
    await a.exited;
    const b = await startWorker({ QUEUE_LEASE_MS: '1000' });
    const done = await waitFor('retry to complete', async () => {
      const j = await getJob(job!.id);
      return j?.status === 'completed' ? j : null;
    });
    expect(done.attempts).toBe(2);
    const types = (await h.deps.db.select().from(jobEvents).where(eq(jobEvents.jobId, job!.id)).orderBy(jobEvents.id)).map((e) => e.type);
    expect(types).toEqual(['job.created', 'job.started', 'job.retrying', 'job.started', 'job.completed']);
    const [retry] = await h.deps.db.select().from(jobEvents).where(sql`${jobEvents.jobId} = ${job!.id} and ${jobEvents.type} = 'job.retrying'`);
    expect(retry!.data.last_error).toContain('lease expired');
    b.proc.kill('SIGTERM');
    await b.exited;
  }, 60_000);

  test('graceful stop releases a claimed job without counting the attempt', async () => {
    const a = await startWorker();
    const [job] = await enqueueJobs(h.deps.db, [{ type: 'test.slow', payload: { ms: 60_000 } }]);
    await waitFor('job claimed', async () => (await getJob(job!.id))?.lockedBy === a.workerId);
    a.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const j = await getJob(job!.id);
    expect(j).toMatchObject({ status: 'pending', attempts: 0, lockedBy: null });
  }, 60_000);
});
