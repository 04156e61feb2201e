/**
 * A job that finishes while the database is away: its outcome is written once the database is
 * back, within its lease. It was given up at the first failure, so the job ran again after its
 * lease (30 s) and spent an attempt; a flapping database could fail it for good.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import type { TestDatabase } from '../../../test/helpers/services';
import { proxiedDatabase, type TcpProxy } from '../../../test/helpers/tcp-proxy';
import { until } from '../../../test/helpers/until';
import { jobs } from './table';

let db: TestDatabase;
let proxy: TcpProxy;
let h: TestApp;
beforeAll(async () => {
  let url: string;
  ({ db, proxy, url } = await proxiedDatabase());
  h = await makeTestApp({ env: { DATABASE_URL: url, QUEUE_CONCURRENCY: '1', QUEUE_POLL_MS: '50' } });
}, 60_000);
afterAll(async () => {
  proxy?.restore();
  await h?.deps.queue.stop();
  await h?.close();
  await proxy?.close();
  await db?.drop();
});

test('a job done during an outage is recorded completed once the database is back, on its first attempt', async () => {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let runs = 0;
  h.deps.queue.register('test.gated', async () => {
    runs++;
    await gate;
  });
  const job = (await h.deps.queue.enqueue({ type: 'test.gated' }))!;
  await h.deps.queue.start();
  await until('the job to run', async () => (runs === 1 ? true : null));
  proxy.cut();
  const refusedBefore = proxy.refused();
  open(); // done, while the database is away
  // The outcome's first write starts at once (no timer); the runner's polls knock every 50 ms: by
  // the sixth refusal it has surely failed at least once.
  await until('its outcome to be tried while the database is away', async () => (proxy.refused() >= refusedBefore + 6 ? true : null));
  proxy.restore();
  const row = await until('the job to be completed', async () => {
    const [r] = await h.deps.db.select().from(jobs).where(eq(jobs.id, job.id)).catch(() => []);
    return r?.status === 'completed' ? r : null;
  });
  expect([row.attempts, runs]).toEqual([1, 1]);
}, 120_000);
