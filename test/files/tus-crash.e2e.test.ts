/**
 * A server killed (SIGKILL) after a tus upload's last byte was saved but before its file was
 * committed, on disk and on S3 (MinIO), with Postgres. The test holds the account's row lock, so
 * the last PATCH stops inside the file row's transaction (the object already made), and kills the
 * server there. The upload used to be lost: its row was deleted before the commit, so HEAD
 * answered 404 and the bytes stayed as an orphan. Worse, when the kill came between making the
 * object and deleting the row, a retried PATCH re-created the moved part as zeros and stored a
 * file of zeros. Now the upload stays whole and unfinished until a HEAD (or the background sweep)
 * finishes it into a file with the source's bytes.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase } from '../helpers/services';
import { until } from '../helpers/until';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let minio: Minio | undefined;
afterAll(() => minio?.stop());

describe.each([
  ['fs', 'a HEAD'],
  ['s3', 'the background sweep'],
] as const)('a tus upload whose server died while committing its file, on %s', (driver, finisher) => {
  let srv: RunningServer | undefined;
  const db = createTestDatabase();
  let sql: postgres.Sql | undefined;
  afterAll(async () => {
    await srv?.close();
    await sql?.end();
    await (await db).drop();
  });

  test(`is finished by ${finisher} after the restart, with the source's bytes, once`, async () => {
    let bucket = '';
    // The sweep runs every quarter of ABANDONED_UPLOAD_AFTER (at most each minute).
    let env: Record<string, string> = { DATABASE_URL: (await db).url, DISABLE_RATE_LIMIT: 'true', ABANDONED_UPLOAD_AFTER: '240' };
    if (driver === 's3') {
      minio ??= await startMinio();
      bucket = await minio.createBucket();
      env = { ...env, ...minio.env(bucket) };
    }
    srv = await startServer({ env });
    const dataDir = srv.dataDir;
    const key = srv.bootstrap!.api_key;
    const auth = { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0' };
    sql = postgres((await db).url, { max: 2, onnotice: () => {} });
    const [user] = await sql<{ id: string }[]>`select id from users where email = ${srv.bootstrap!.email}`;

    const data = Buffer.from(randomBytes(3 * 1024 * 1024).toString('hex'));
    const created = await fetch(`${srv.url}/api/uploads/tus`, {
      method: 'POST', headers: { ...auth, 'upload-length': String(data.length), 'upload-metadata': `filename ${Buffer.from('crash.txt').toString('base64')}` },
    });
    expect(created.status).toBe(201);
    const path = new URL(created.headers.get('location')!, srv.url).pathname;
    const url = () => `${srv!.url}${path}`; // the restarted server listens on another port

    // The account's row held: the commit (its row's foreign key, its quota update) waits on it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const holder = sql.begin(async (tx) => {
      await tx`select id from users where id = ${user!.id} for update`;
      locked();
      await held;
    });
    await lockTaken;
    try {
      const last = fetch(url(), { method: 'PATCH', headers: { ...auth, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: data })
        .then((r) => r.status, () => 'cut');
      await until('the commit to wait on the account row', async () => {
        const [w] = await sql!`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and (query ilike 'update "users"%' or query ilike 'insert into "tus_finished"%')`;
        return (w as { n: number }).n > 0 ? true : null;
      }, 90_000);
      await srv.stop('SIGKILL');
      expect(await last).toBe('cut'); // never acknowledged as a file
    } finally {
      release();
      await holder;
    }

    srv = await startServer({ env, dataDir });
    let fileId: string;
    if (finisher === 'a HEAD') {
      // 423 while the dead request's lease (30 s) lasts, then finished by the HEAD itself.
      const head = await until('a HEAD past the dead lease', async () => {
        const res = await fetch(url(), { method: 'HEAD', headers: auth });
        return res.status === 423 ? null : res;
      }, 120_000);
      expect(head.status).toBe(200);
      expect(head.headers.get('upload-offset')).toBe(String(data.length));
      fileId = head.headers.get('x-file-id')!;
      expect(fileId).toBeTruthy();
    } else {
      fileId = await until('the sweep to finish the upload', async () => {
        const list = (await (await fetch(`${srv!.url}/api/files`, { headers: auth })).json()) as { results: { id: string }[] };
        return list.results[0]?.id ?? null;
      }, 180_000);
    }
    const original = await fetch(`${srv.url}/api/files/${fileId}/original`, { headers: auth });
    expect(original.status).toBe(200);
    expect(sha(new Uint8Array(await original.arrayBuffer()))).toBe(sha(data));

    // Asked again: the same file, not a second one (the old code's retry stored zeros over it).
    const again = await fetch(url(), { method: 'PATCH', headers: { ...auth, 'upload-offset': String(data.length), 'content-type': 'application/offset+octet-stream' }, body: new Uint8Array(0) });
    expect([again.status, again.headers.get('x-file-id')]).toEqual([204, fileId]);
    const list = (await (await fetch(`${srv.url}/api/files`, { headers: auth })).json()) as { count: number };
    expect(list.count).toBe(1);
    const objects = driver === 'fs'
      ? (await readdir(join(dataDir, 'files'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !/(^|\/)\.(tmp|tus)(\/|$)/.test(e.parentPath.slice(dataDir.length))).length
      : (await minio!.client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0;
    expect(objects).toBe(1);
    const [usage] = await sql<{ files_count: number; storage_bytes: string }[]>`select files_count, storage_bytes from users where id = ${user!.id}`;
    expect([usage!.files_count, Number(usage!.storage_bytes)]).toEqual([1, data.length]);
  }, 400_000);
});
