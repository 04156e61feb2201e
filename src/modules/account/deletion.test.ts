/**
 * An account deletion whose job stopped after some batches (a crash, here a failing statement)
 * reports, once retried, everything it removed: the retry counted only what it removed itself
 * (101 of 301 files after a kill). In process, on Postgres, with the real queue.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { desc, eq, sql } from 'drizzle-orm';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedFile, seedUser } from '../../../test/helpers/seed';
import { until } from '../../../test/helpers/until';
import { files } from '../files/table';
import { getDeletion, requestDeletion, toDeletionJson } from './deletion';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp({ db: 'postgres', env: { DISABLE_RATE_LIMIT: 'true', QUEUE_POLL_MS: '50' } });
}, 30_000);
afterAll(() => h?.close());

test('a deletion retried after stopping mid-way counts the files and objects of every attempt', async () => {
  const u = await seedUser(h.deps);
  for (let i = 0; i < 201; i++) await seedFile(h.deps, u.id, Buffer.from(`file ${i}`), { contentType: 'text/plain' });
  // The last file (batches go in id order, 200 at a time) cannot be deleted at first: the job stops after one batch.
  const [last] = await h.deps.db.select({ id: files.id }).from(files).where(eq(files.userId, u.id)).orderBy(desc(files.id)).limit(1);
  await h.deps.db.execute(sql.raw(`create function test_stop_deletion() returns trigger language plpgsql as $$
    begin if old.id = '${last!.id}' then raise exception 'stopped mid-way'; end if; return old; end $$`));
  await h.deps.db.execute(sql.raw('create trigger test_stop_deletion before delete on files for each row execute function test_stop_deletion()'));
  const d = await requestDeletion(h.deps, u.id, u.id);
  await h.deps.queue.start();
  try {
    await until('the first attempt to stop', async () => ((await getDeletion(h.deps, d.id)).error !== null ? true : null));
    expect(await h.deps.db.select({ id: files.id }).from(files).where(eq(files.userId, u.id))).toHaveLength(1);
  } finally {
    await h.deps.db.execute(sql.raw('drop trigger test_stop_deletion on files; drop function test_stop_deletion()'));
  }
  const done = await until('the deletion to complete', async () => {
    const now = await getDeletion(h.deps, d.id);
    return now.status === 'completed' ? now : null;
  }, 90_000);
  expect(toDeletionJson(done).removed).toMatchObject({ files: 201, objects: 201 });
}, 120_000);
