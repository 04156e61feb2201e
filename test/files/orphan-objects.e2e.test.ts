/**
 * Objects without a row (issue #17's fault table: a SIGKILL after an upload's object was stored
 * and before its row committed left the object forever). Over a real server on local disk and on
 * MinIO, with Postgres: an orphan put straight into storage under a user's key space is removed
 * by the start-up sweep once older than `ABANDONED_UPLOAD_AFTER`; objects with rows (a deleted
 * row awaiting its purge too), tus's own objects, keys of another layout and a young orphan stay.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { createFsStorage } from '../../src/storage/fs';
import { createS3Storage } from '../../src/storage/s3';
import type { StorageDriver } from '../../src/storage/types';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

let minio: Minio | undefined;
afterAll(() => minio?.stop());

describe.each(['fs', 's3'] as const)('objects without a row are swept: %s', (kind) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let bucket = '';
  const servers: RunningServer[] = [];
  let storage: StorageDriver | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    // QUEUE_CONCURRENCY=0: no purge runs, so a deleted file's row and object wait (as in a backlog).
    env = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true', QUEUE_CONCURRENCY: '0', LOG_LEVEL: 'debug' };
    if (kind === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
  }, 60_000);
  afterAll(async () => {
    await storage?.close();
    for (const s of servers) await s.close();
    await db?.drop();
  });

  const start = async (bound: number, dataDir?: string) => {
    const s = await startServer({ env: { ...env, ABANDONED_UPLOAD_AFTER: String(bound) }, dataDir });
    servers.push(s);
    return s;
  };
  const openStorage = (dataDir: string) => kind === 'fs'
    ? createFsStorage(join(dataDir, 'files'))
    : Promise.resolve(createS3Storage({
      endpoint: minio!.endpoint, region: 'us-east-1', bucket, accessKeyId: minio!.accessKeyId,
      secretAccessKey: minio!.secretAccessKey, forcePathStyle: true,
    }));
  const exists = async (key: string) => (await storage!.head(key)) !== null;
  const sweepsDone = (s: RunningServer) => s.logs.filter((l) => l.msg === 'abandoned upload sweep done').length;

  test('an orphan older than the bound goes at start-up; rows\' objects, tus\'s and young orphans stay', async () => {
    const first = await start(2);
    const auth = { authorization: `Bearer ${first.bootstrap!.api_key}` };
    const upload = async (body: string) => {
      const res = await fetch(`${first.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body });
      expect(res.status).toBe(201);
      return ((await res.json()) as { file: { id: string } }).file.id;
    };
    const kept = await upload('kept');
    const deleted = await upload('deleted, purge pending');
    expect((await fetch(`${first.url}/api/files/${deleted}`, { method: 'DELETE', headers: auth })).status).toBeLessThan(300);
    storage = await openStorage(first.dataDir);
    const keys: string[] = [];
    for await (const o of storage.listOlderThan('', new Date(Date.now() + 3_600_000))) keys.push(o.key);
    const keptKey = keys.find((k) => k.endsWith(`/${kept}`))!;
    const deletedKey = keys.find((k) => k.endsWith(`/${deleted}`))!;
    expect(keptKey).toBeDefined();
    expect(deletedKey).toBeDefined();
    const user = keptKey.split('/')[0];
    // What a crash between the object and its row leaves: the object, and a photo's public copy.
    const orphan = `${user}/orphan000001`;
    const orphanCopy = `${user}/orphan000002.public`;
    const tusOwned = '.tus/0123456789abcdef';
    const foreign = 'backups/not-an-upload';
    for (const key of [orphan, orphanCopy, tusOwned, foreign]) await storage.put(key, new Blob([key]).stream());
    await first.stop('SIGKILL');

    // The restart's sweep must see them older than the bound (2 s).
    await waitFor('the orphans to be older than the bound', async () => {
      const old: string[] = [];
      for await (const o of storage!.listOlderThan(`${user}/`, new Date(Date.now() - 2500))) old.push(o.key);
      return old.includes(orphan) && old.includes(orphanCopy);
    });
    const second = await start(2, first.dataDir);
    await waitFor('the start-up sweep to remove both orphans', async () => !(await exists(orphan)) && !(await exists(orphanCopy)));
    await waitFor('the sweep\'s log line', async () => second.logs.some((l) => l.msg === 'removed stored objects without a row' && l.removed === 2));
    for (const key of [keptKey, deletedKey, tusOwned, foreign]) expect(await exists(key)).toBe(true);
    const res = await fetch(`${second.url}/api/files/${kept}`, { headers: { authorization: `Bearer ${first.bootstrap!.api_key}` } });
    expect(res.status).toBe(200);
    await second.stop('SIGKILL');

    // A young orphan (an upload that may still commit) outlives a sweep whose bound it is under.
    const young = `${user}/orphan000003`;
    await storage.put(young, new Blob(['young']).stream());
    const third = await start(3600, first.dataDir);
    await waitFor('the start-up sweep to finish', async () => sweepsDone(third) === 1);
    expect(await exists(young)).toBe(true);
    for (const key of [keptKey, deletedKey, tusOwned, foreign]) expect(await exists(key)).toBe(true);
  }, 240_000);
});
