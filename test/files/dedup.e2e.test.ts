/**
 * De-duplication (issue #25.3) over a real server with Postgres, on local disk and on MinIO:
 * ten concurrent uploads of the same 5 MB file by two accounts store one object; deleting nine
 * leaves it (and the tenth still downloads whole); deleting the tenth removes it. Each account's
 * usage counts what it uploaded, exactly, at every step. Then deletes and uploads of the same
 * content racing each other: whatever the interleaving, every live file downloads whole and,
 * once all are deleted, nothing is left.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import postgres from 'postgres';
import { createFsStorage } from '../../src/storage/fs';
import { createS3Storage } from '../../src/storage/s3';
import type { StorageDriver } from '../../src/storage/types';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const MB5 = 5 * 1024 * 1024;
/** 5 MB of text (allowed type, no derivatives, no public copy): one distinct content per run. */
const content = (): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(randomBytes(MB5 * 3 / 4).toString('base64')));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let minio: Minio | undefined;
afterAll(() => minio?.stop());

describe.each(['fs', 's3'] as const)('identical uploads are stored once: %s', (kind) => {
  let db: TestDatabase;
  let server: RunningServer;
  let storage: StorageDriver;
  let sql: postgres.Sql;
  let admin: Record<string, string>;
  let other: Record<string, string>;
  let bucket = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    let env: Record<string, string> = { DATABASE_URL: db.url, DISABLE_RATE_LIMIT: 'true' };
    if (kind === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    server = await startServer({ env });
    storage = kind === 'fs'
      ? await createFsStorage(join(server.dataDir, 'files'))
      : createS3Storage({
        endpoint: minio!.endpoint, region: 'us-east-1', bucket, accessKeyId: minio!.accessKeyId,
        secretAccessKey: minio!.secretAccessKey, forcePathStyle: true,
      });
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    admin = { authorization: `Bearer ${server.bootstrap!.api_key}` };
    const reg = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `dedup-${kind}@example.com`, password: 'correct horse battery' }),
    });
    expect(reg.status).toBe(201);
    const { session } = (await reg.json()) as { session: { access_token: string } };
    other = { authorization: `Bearer ${session.access_token}` };
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await storage?.close();
    await server?.close();
    await db?.drop();
  });

  const objects = async () => {
    const keys: string[] = [];
    for await (const o of storage.listOlderThan('', new Date(Date.now() + 3_600_000))) keys.push(o.key);
    return keys.sort();
  };
  const upload = async (auth: Record<string, string>, body: Uint8Array<ArrayBuffer>) => {
    const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body });
    expect(res.status).toBe(201);
    return ((await res.json()) as { file: { id: string; sha256: string } }).file;
  };
  const remove = async (auth: Record<string, string>, id: string) => {
    const res = await fetch(`${server.url}/api/files/${id}`, { method: 'DELETE', headers: auth });
    expect(res.status).toBe(204);
  };
  const usage = async (auth: Record<string, string>) => {
    const res = await fetch(`${server.url}/api/usage`, { headers: auth });
    expect(res.status).toBe(200);
    const u = (await res.json()) as { storage_bytes: number; files_count: number };
    return { storage_bytes: u.storage_bytes, files_count: u.files_count };
  };
  const download = async (auth: Record<string, string>, id: string) => {
    const res = await fetch(`${server.url}/d/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return sha(new Uint8Array(await res.arrayBuffer()));
  };
  /** Every purge and blob deletion the deletes enqueued has run. */
  const purgesDone = () => waitFor('purges to finish', async () => {
    const [row] = await sql`select count(*)::int as n from jobs where type in ('purge', 'blob_delete') and status not in ('completed', 'failed', 'cancelled')`;
    const [deleted] = await sql`select count(*)::int as n from files where deleted_at is not null`;
    return row!.n === 0 && deleted!.n === 0;
  });

  test('ten concurrent uploads, one object; nine deletes keep it, the tenth removes it; usage stays exact', async () => {
    const bytes = content();
    const digest = sha(bytes);
    const before = { admin: await usage(admin), other: await usage(other) };
    const owners = Array.from({ length: 10 }, (_, i) => (i < 6 ? admin : other));
    const uploaded = await Promise.all(owners.map((auth) => upload(auth, bytes)));
    expect(new Set(uploaded.map((f) => f.id)).size).toBe(10);
    for (const f of uploaded) expect(f.sha256).toBe(digest);

    // One object for ten files, and one blob row counting them.
    expect(await objects()).toHaveLength(1);
    const blobs = await sql`select refcount, size from blobs where sha256 = ${digest}`;
    expect(blobs.map((b) => [b.refcount, Number(b.size)])).toEqual([[10, bytes.length]]);
    // Each account is charged for what it uploaded, shared bytes or not.
    expect(await usage(admin)).toEqual({ storage_bytes: before.admin.storage_bytes + 6 * bytes.length, files_count: before.admin.files_count + 6 });
    expect(await usage(other)).toEqual({ storage_bytes: before.other.storage_bytes + 4 * bytes.length, files_count: before.other.files_count + 4 });

    // Nine deletes at once (both accounts): the bytes stay for the tenth.
    const last = uploaded[9]!;
    await Promise.all(uploaded.slice(0, 9).map((f, i) => remove(owners[i]!, f.id)));
    await purgesDone();
    expect(await objects()).toHaveLength(1);
    expect((await sql`select refcount from blobs where sha256 = ${digest}`).map((b) => b.refcount)).toEqual([1]);
    expect(await download(other, last.id)).toBe(digest);
    expect(await usage(admin)).toEqual(before.admin);
    expect(await usage(other)).toEqual({ storage_bytes: before.other.storage_bytes + bytes.length, files_count: before.other.files_count + 1 });

    // The tenth: the object and its blob row go.
    await remove(other, last.id);
    await purgesDone();
    expect(await objects()).toEqual([]);
    expect((await sql`select count(*)::int as n from blobs`)[0]!.n).toBe(0);
    expect(await usage(other)).toEqual(before.other);
  }, 300_000);

  test('deletes and uploads of the same content racing: live files stay whole, nothing leaks', async () => {
    const bytes = content();
    const digest = sha(bytes);
    for (let round = 0; round < 3; round++) {
      const first = await Promise.all([upload(admin, bytes), upload(other, bytes)]);
      // The last references go while new uploads of the same bytes commit.
      const [, , ...again] = await Promise.all([
        remove(admin, first[0]!.id), remove(other, first[1]!.id), upload(admin, bytes), upload(other, bytes), upload(admin, bytes),
      ]);
      await purgesDone();
      const live = again as { id: string }[];
      expect(await objects()).toHaveLength(1);
      for (const f of live) expect(await download(admin, f.id)).toBe(digest);
      expect((await sql`select refcount from blobs where sha256 = ${digest}`).map((b) => b.refcount)).toEqual([3]);
      await Promise.all([remove(admin, live[0]!.id), remove(other, live[1]!.id), remove(admin, live[2]!.id)]);
      await purgesDone();
      expect(await objects()).toEqual([]);
      expect((await sql`select count(*)::int as n from blobs`)[0]!.n).toBe(0);
    }
  }, 300_000);
});
