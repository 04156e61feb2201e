/**
 * Uploads and deletes with the queue (issue #7 point 4, issue #4 purge durability), through the
 * real routes in process on PGlite and Postgres:
 * - a committed upload always has its `derive` job; one rolled back after the enqueue has none
 *   (and no row, no object, no counter change);
 * - a delete has its `purge` job, which the queue retries while storage is down and which
 *   removes bytes and row once storage is back;
 * - a multi-file upload where one file fails unexpectedly stores the others and orphans nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { jobs } from '../queue/table';
import { users } from '../users/table';
import { files } from './table';
import { blobs } from './blob-table';
import { releaseFileBlobs } from './blobs';

/** Every stored object under the fs driver's root (not its temp dir). */
async function storedObjects(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'files');
  const all = await readdir(root, { recursive: true, withFileTypes: true });
  return all.filter((e) => e.isFile() && !join(e.parentPath, e.name).startsWith(join(root, '.tmp'))).map((e) => e.name);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await Bun.sleep(50);
  }
}

describe.each(DB_BACKENDS)('uploads, deletes and their jobs on %s', (db) => {
  let h: TestApp;
  let u: SeededUser;
  let img: Uint8Array<ArrayBuffer>;
  const auth = () => ({ authorization: `Bearer ${u.key}` });
  const upload = (name: string, body: Uint8Array<ArrayBuffer> = img) =>
    h.request('/api/files', { method: 'POST', body, headers: { ...auth(), 'content-type': 'image/png', 'x-file-name': name } });
  // Distinct bytes: identical ones share one stored object (files/blobs.ts).
  const png = async (background: string) => new Uint8Array(await sharp({ create: { width: 5, height: 5, channels: 3, background } }).png().toBuffer());
  const counters = async () =>
    (await h.deps.db.select({ bytes: users.storageBytes, n: users.filesCount }).from(users).where(eq(users.id, u.id)))[0]!;
  const jobsOf = (type: string, fileId: string) =>
    h.deps.db.select().from(jobs).where(and(eq(jobs.type, type), eq(jobs.fileId, fileId)));

  beforeAll(async () => {
    img = new Uint8Array(await sharp({ create: { width: 5, height: 5, channels: 3, background: '#c00' } }).png().toBuffer());
    h = await makeTestApp({ db, env: { DISABLE_RATE_LIMIT: 'true', QUEUE_POLL_MS: '50' } });
    u = await seedUser(h.deps);
    // Fails the commit of one chosen upload after every statement in it ran (the enqueue included).
    await h.deps.db.execute(sql.raw(`create function test_fail_commit() returns trigger language plpgsql as $$
      begin if new.name = 'rollback-me.png' then raise exception 'forced failure at commit'; end if; return new; end $$`));
    await h.deps.db.execute(sql.raw(`create constraint trigger test_fail_commit after insert on files
      deferrable initially deferred for each row execute function test_fail_commit()`));
  }, 30_000);
  afterAll(() => h.close());

  test('committed upload → exactly one derive job; rolled back after the enqueue → no job, row, object or counter change', async () => {
    const ok = await upload('kept.png');
    expect(ok.status).toBe(201);
    const id = ((await ok.json()) as { file: { id: string } }).file.id;
    const derive = await jobsOf('derive', id);
    expect(derive).toHaveLength(1);
    expect(derive[0]!.userId).toBe(u.id);

    const before = await counters();
    const objects = (await storedObjects(h.dataDir)).length;
    const jobCount = (await h.deps.db.select({ n: sql<number>`count(*)::int` }).from(jobs))[0]!.n;
    const failed = await upload('rollback-me.png');
    expect(failed.status).toBe(500);
    expect(await h.deps.db.select().from(files).where(eq(files.name, 'rollback-me.png'))).toHaveLength(0);
    expect((await h.deps.db.select({ n: sql<number>`count(*)::int` }).from(jobs))[0]!.n).toBe(jobCount);
    expect(await counters()).toEqual(before);
    expect((await storedObjects(h.dataDir)).length).toBe(objects);
  });

  test('delete → a purge job releases the bytes; storage down → their blob_delete job retried, bytes kept; storage back → bytes gone', async () => {
    const r = await upload('doomed.png', await png('#0a0'));
    const { id } = ((await r.json()) as { file: { id: string } }).file;
    const [row] = await h.deps.db.select().from(files).where(eq(files.id, id));
    const storage = h.deps.storage;
    const realDelete = storage.delete.bind(storage);
    let refused = 0;
    storage.delete = async () => {
      refused++;
      throw new Error('storage unreachable');
    };
    try {
      expect((await h.request(`/api/files/${id}`, { method: 'DELETE', headers: auth() })).status).toBe(204);
      expect(await jobsOf('purge', id)).toHaveLength(1);
      const started = Date.now();
      await h.deps.queue.start();
      // The purge releases the file's reference with its row; the bytes' own job is what storage holds up.
      const blobJob = () => h.deps.db.select().from(jobs).where(eq(jobs.uniqueKey, `blob:${storage.kind}:${row!.storageKey}`));
      await until(async () => {
        const [job] = await blobJob();
        return job?.status === 'pending' && job.attempts >= 1 && job.lastError !== null;
      }, 10_000);
      const [job] = await blobJob();
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(job!.lastError).toContain('storage unreachable');
      expect(job!.runAt.getTime()).toBeGreaterThan(started + 1000); // backoff (≥ 1.5 s) before the next attempt
      expect((await jobsOf('purge', id))[0]!.status).toBe('completed');
      expect(await h.deps.db.select().from(files).where(eq(files.id, id))).toHaveLength(0);
      // Bytes and their (dying) blob row stay until storage confirms.
      expect(await storage.head(row!.storageKey)).not.toBeNull();
      expect((await h.deps.db.select().from(blobs).where(eq(blobs.storageKey, row!.storageKey))).map((b) => b.refcount)).toEqual([0]);
    } finally {
      storage.delete = realDelete;
    }
    await until(async () => (await h.deps.db.select().from(jobs).where(eq(jobs.uniqueKey, `blob:${storage.kind}:${row!.storageKey}`)))[0]!.status === 'completed', 15_000);
    expect(await storage.head(row!.storageKey)).toBeNull();
    expect(await h.deps.db.select().from(blobs).where(eq(blobs.storageKey, row!.storageKey))).toHaveLength(0);
  }, 30_000);

  test('multi-file upload: one file failing unexpectedly → 207, the others stored, nothing orphaned', async () => {
    const storage = h.deps.storage;
    const realPut = storage.put.bind(storage);
    let calls = 0;
    storage.put = async (key, body, opts) => {
      if (++calls === 2) {
        await body.cancel();
        throw new Error('disk on fire');
      }
      return realPut(key, body, opts);
    };
    const parts = [['a.png', await png('#a00')], ['b.png', await png('#0b0')], ['c.png', await png('#00c')]] as const;
    const objects = (await storedObjects(h.dataDir)).length;
    const before = await counters();
    let res: Response;
    try {
      const form = new FormData();
      for (const [n, bytes] of parts) form.append('file', new Blob([bytes], { type: 'image/png' }), n);
      res = await h.request('/api/files', { method: 'POST', body: form, headers: auth() });
    } finally {
      storage.put = realPut;
    }
    expect(res.status).toBe(207);
    const body = (await res.json()) as { results: { id: string }[]; count: number; errors: { name: string; error: string }[] };
    expect(body.count).toBe(2);
    expect(body.errors).toEqual([expect.objectContaining({ error: 'INTERNAL_ERROR' })]);
    expect((await storedObjects(h.dataDir)).length).toBe(objects + 2);
    const after = await counters();
    expect(after.n).toBe(before.n + 2);
    // The second put failed (b.png): a and c are stored and counted.
    expect(after.bytes).toBe(before.bytes + parts[0][1].length + parts[2][1].length);
  });

  test('a purge whose process died before telling the caches: the blob_delete job of the bytes drops their derivatives', async () => {
    await h.deps.queue.start();
    const r = await upload('rendered.png', await png('#08f'));
    const { id } = ((await r.json()) as { file: { id: string } }).file;
    const [row] = await h.deps.db.select().from(files).where(eq(files.id, id));
    // Its derive job renders the eager presets into the disk cache, under the bytes' sha256.
    const shaDir = join(h.deps.config.cacheDir, row!.sha256.slice(0, 2), row!.sha256);
    await until(async () => (await readdir(shaDir).catch(() => [])).length > 0, 30_000);
    // What a purge commits (purge.ts), and no message to the caches after it: its process died.
    await h.deps.db.transaction((tx) => releaseFileBlobs(tx, h.deps.storage.kind, [row!]));
    await until(async () => (await readdir(shaDir).catch(() => [])).length === 0, 30_000);
    expect(await h.deps.storage.head(row!.storageKey)).toBeNull();
  }, 60_000);
});

describe('an upload wakes its own queue worker', () => {
  test('its derive job runs at once, not at the next poll (poll set to ten minutes)', async () => {
    const h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true', QUEUE_POLL_MS: '600000' } });
    try {
      const u = await seedUser(h.deps);
      await h.deps.queue.start();
      await Bun.sleep(200); // the start's own claim pass finds nothing and goes idle
      const img = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#0c0' } }).png().toBuffer();
      const res = await h.request('/api/files', { method: 'POST', body: new Uint8Array(img), headers: { authorization: `Bearer ${u.key}`, 'content-type': 'image/png' } });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { file: { id: string } }).file.id;
      await until(async () => {
        const [job] = await h.deps.db.select().from(jobs).where(and(eq(jobs.type, 'derive'), eq(jobs.fileId, id)));
        return job?.status === 'completed';
      }, 20_000); // far below the ten-minute poll: only the wake-up can have started it
    } finally {
      await h.close();
    }
  }, 30_000);
});
