/**
 * The storage changing under a running server: a bucket deleted, keys revoked, a multipart
 * upload's part no longer held. Each is the storage's fault, never the client's: a 503 naming
 * nothing secret, with the cause in the log and the fix in `/health/ready`; a tus upload that
 * can never end becomes a 410 and goes. They were 500s logged as bugs, and a deleted bucket made
 * every file a 404.
 */
import { DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { isStorageUnavailable } from '../../src/errors';
import { describeS3Problem } from '../../src/storage/s3-problem';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';

let minio: Minio;
beforeAll(async () => {
  minio = await startMinio();
}, 60_000);
afterAll(() => minio?.stop());

const MiB = 1024 * 1024;

describe('a bucket deleted while the server runs', () => {
  let srv: RunningServer;
  let bucket = '';
  beforeAll(async () => {
    bucket = await minio.createBucket();
    srv = await startServer({ env: { ...minio.env(bucket), DISABLE_RATE_LIMIT: 'true', CACHE_MEMORY_BYTES: '0', CACHE_DISK_BYTES: '0' } });
  }, 120_000);
  afterAll(() => srv?.close());

  test('its files answer 503, not 404; uploads 503, not 500; /health/ready names S3_BUCKET', async () => {
    const key = srv.bootstrap!.api_key;
    const auth = { authorization: `Bearer ${key}` };
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello bucket' });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    expect((await fetch(`${srv.url}/health/ready`)).status).toBe(200);

    const listed = await minio.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    await minio.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: (listed.Contents ?? []).map((c) => ({ Key: c.Key! })) } }));
    await minio.client.send(new DeleteBucketCommand({ Bucket: bucket }));

    const answers = [
      await fetch(`${srv.url}/i/${file.id}`),
      await fetch(`${srv.url}/api/files/${file.id}/original`, { headers: auth }),
      await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'another' }),
      await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x'.repeat(12 * MiB) }),
    ];
    const got = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { error: string }).error]));
    expect(got).toEqual(Array(4).fill([503, 'STORAGE_UNAVAILABLE']));

    const ready = await fetch(`${srv.url}/health/ready`);
    const body = (await ready.json()) as { checks: { storage: { status: string; error?: string } } };
    expect(ready.status).toBe(503);
    expect(body.checks.storage.status).toBe('down');
    expect(body.checks.storage.error).toContain(`S3 bucket "${bucket}" does not exist`);
    expect(body.checks.storage.error).toContain('S3_BUCKET');
    // The operator's log says why; nothing was taken for a bug.
    expect(srv.logs.some((l) => l.level === 'warn' && l.code === 'STORAGE_UNAVAILABLE' && l.cause === 'NoSuchBucket')).toBe(true);
    expect(srv.logs.filter((l) => l.level === 'error')).toEqual([]);
  }, 90_000);
});

test('keys the storage does not take are the storage unavailable, and described with the variable to set', async () => {
  const bucket = await minio.createBucket();
  const wrong = new S3Client({ region: 'us-east-1', endpoint: minio.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'revoked', secretAccessKey: 'revokedsecret' } });
  const err = await wrong.send(new GetObjectCommand({ Bucket: bucket, Key: 'a' })).then(() => null, (e: unknown) => e);
  wrong.destroy();
  expect((err as { name: string }).name).toBe('InvalidAccessKeyId');
  expect(isStorageUnavailable(err)).toBe(true);
  expect(describeS3Problem(err, bucket, minio.endpoint)).toMatchObject({ variable: 'S3_ACCESS_KEY_ID', code: 'InvalidAccessKeyId' });
});

describe('a tus upload whose acknowledged part the storage no longer holds', () => {
  let srv: RunningServer;
  let bucket = '';
  beforeAll(async () => {
    bucket = await minio.createBucket();
    srv = await startServer({ env: { ...minio.env(bucket), DISABLE_RATE_LIMIT: 'true' } });
  }, 120_000);
  afterAll(() => srv?.close());

  test('its last PATCH is a 410 (it was a 500, again on every retry) and the upload is removed', async () => {
    const auth = { authorization: `Bearer ${srv.bootstrap!.api_key}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${srv.url}/api/uploads/tus`, {
      method: 'POST', headers: { ...auth, 'upload-length': String(9 * MiB), 'upload-metadata': `filename ${btoa('lost.bin')}` },
    });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, srv.url).href;
    const patch = (offset: number, body: Uint8Array<ArrayBuffer>) => fetch(url, {
      method: 'PATCH', body, headers: { ...auth, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    });
    expect((await patch(0, new Uint8Array(8 * MiB).fill(0x61))).status).toBe(204); // part 1 stored

    // The storage's part 1 is no longer the one acknowledged (its ETag changed).
    const [upload] = (await minio.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    await minio.client.send(new UploadPartCommand({ Bucket: bucket, Key: upload!.Key, UploadId: upload!.UploadId, PartNumber: 1, Body: new Uint8Array(8 * MiB).fill(0x62) }));

    const last = await patch(8 * MiB, new Uint8Array(MiB).fill(0x61));
    expect([last.status, last.headers.get('tus-resumable'), ((await last.json()) as { error: string }).error]).toEqual([410, '1.0.0', 'GONE']);
    const head = await fetch(url, { method: 'HEAD', headers: auth });
    expect(head.status).toBe(404);
    expect(await minio.pendingUploads(bucket)).toBe(0);
    expect(srv.logs.filter((l) => l.level === 'error')).toEqual([]);
  }, 90_000);
});
