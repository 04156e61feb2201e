/**
 * `background` jobs (eager derivatives) yield to uploads in progress in their process
 * (`holdBackground`), for at most `QUEUE_DEFER_MS`; overdue ones then run one at a time.
 * Absence is checked after later foreground jobs have been claimed and run: each of those
 * claims would have taken the background job too, had it not been held back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { quadrants } from '../../../test/helpers/images';
import { seedUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { DERIVE_JOB } from '../transform/jobs';
import { jobs } from './table';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, fn: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.each(DB_BACKENDS)('background jobs on %s', (db) => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp({ db, env: { QUEUE_CONCURRENCY: '4', QUEUE_POLL_MS: '50', QUEUE_DEFER_MS: '3600000' } });
    await h.deps.queue.start();
  }, 60_000);
  afterAll(async () => {
    await h.deps.queue.stop();
    await h.close();
  });

  test('wait while an upload is held, and run once it ends', async () => {
    const ran: string[] = [];
    h.deps.queue.register('test.bg', async ({ job }) => void ran.push(`bg:${String(job.payload.n)}`), { background: true });
    h.deps.queue.register('test.fg', async ({ job }) => void ran.push(`fg:${String(job.payload.n)}`));
    const resume = h.deps.queue.holdBackground();
    await h.deps.queue.enqueue({ type: 'test.bg', payload: { n: 1 } });
    for (let n = 1; n <= 3; n++) {
      await h.deps.queue.enqueue({ type: 'test.fg', payload: { n } });
      await waitFor(`foreground job ${n}`, () => ran.includes(`fg:${n}`));
    }
    expect(ran).toEqual(['fg:1', 'fg:2', 'fg:3']);
    // A second hold: ending one upload while another runs still holds the job back.
    const other = h.deps.queue.holdBackground();
    resume();
    resume(); // idempotent: does not end the other hold
    await h.deps.queue.enqueue({ type: 'test.fg', payload: { n: 4 } });
    await waitFor('foreground job 4', () => ran.includes('fg:4'));
    expect(ran).not.toContain('bg:1');
    other();
    await waitFor('background job after the uploads', () => ran.includes('bg:1'));
  }, 60_000);

  test("an upload in progress holds back an earlier upload's derive job", async () => {
    const user = await seedUser(h.deps);
    const boundary = 'pictor-test-boundary';
    const enc = new TextEncoder();
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
    feed.enqueue(enc.encode(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.txt"\r\ncontent-type: text/plain\r\n\r\nthe first half, `));
    const slow = h.request('/api/files', {
      method: 'POST', body, duplex: 'half', headers: { 'x-api-key': user.key, 'content-type': `multipart/form-data; boundary=${boundary}` },
    } as RequestInit);
    await waitFor('the slow upload to hold background jobs', () => h.deps.queue.holding() === 1);
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await quadrants(64, 48).png().toBuffer())], { type: 'image/png' }), 'photo.png');
    const photo = await h.request('/api/files', { method: 'POST', body: form, headers: { 'x-api-key': user.key } });
    expect(photo.status).toBe(201);
    const { file: { id } } = (await photo.json()) as { file: { id: string } };
    const deriveStatus = async () => (await h.deps.db.select({ status: jobs.status }).from(jobs).where(eq(jobs.fileId, id)))
      .map((j) => j.status);
    const ticks: number[] = [];
    h.deps.queue.register('test.after-upload', async ({ job }) => void ticks.push(Number(job.payload.n)));
    for (let n = 1; n <= 2; n++) {
      await h.deps.queue.enqueue({ type: 'test.after-upload', payload: { n } });
      await waitFor(`foreground job ${n}`, () => ticks.includes(n));
    }
    expect(await deriveStatus()).toEqual(['pending']);
    feed.enqueue(enc.encode(`the second half.\r\n--${boundary}--\r\n`));
    feed.close();
    expect((await slow).status).toBe(201);
    expect(h.deps.queue.holding()).toBe(0);
    const until = Date.now() + 30_000;
    while ((await deriveStatus())[0] !== 'completed') {
      if (Date.now() > until) throw new Error(`derive job still ${(await deriveStatus()).join()}`);
      await sleep(50);
    }
    const [job] = await h.deps.db.select({ type: jobs.type }).from(jobs).where(eq(jobs.fileId, id));
    expect(job?.type).toBe(DERIVE_JOB);
  }, 60_000);
});

describe('background jobs past QUEUE_DEFER_MS', () => {
  let h: TestApp;
  beforeAll(async () => {
    h = await makeTestApp({ env: { QUEUE_CONCURRENCY: '4', QUEUE_POLL_MS: '50', QUEUE_DEFER_MS: '200' } });
    await h.deps.queue.start();
  }, 60_000);
  afterAll(async () => {
    await h.deps.queue.stop();
    await h.close();
  });

  test('run one at a time while uploads keep arriving', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const gates = new Map<number, () => void>();
    h.deps.queue.register('test.slow', async ({ job }) => {
      const n = Number(job.payload.n);
      running++;
      most = Math.max(most, running);
      await new Promise<void>((open) => gates.set(n, open));
      running--;
      done.push(n);
    }, { background: true });
    const ran: number[] = [];
    h.deps.queue.register('test.tick', async ({ job }) => void ran.push(Number(job.payload.n)));
    const resume = h.deps.queue.holdBackground();
    try {
      for (const n of [1, 2, 3]) await h.deps.queue.enqueue({ type: 'test.slow', payload: { n } });
      await waitFor('an overdue background job to start', () => gates.size === 1);
      // More claims while it runs: none takes a second background job.
      for (let n = 1; n <= 3; n++) {
        await h.deps.queue.enqueue({ type: 'test.tick', payload: { n } });
        await waitFor(`foreground job ${n}`, () => ran.includes(n));
      }
      expect(gates.size).toBe(1);
      const [first] = gates.keys();
      gates.get(first!)!();
      await waitFor('the next overdue job', () => gates.size === 2);
      expect(running).toBe(1);
      expect(most).toBe(1);
    } finally {
      resume();
    }
    // No upload now: the last one starts beside the one still running.
    await waitFor('the last job to start once the uploads end', () => gates.size === 3);
    expect(running).toBe(2);
    for (const open of gates.values()) open();
    await waitFor('every background job', () => done.length === 3);
  }, 60_000);
});
