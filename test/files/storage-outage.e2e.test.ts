/**
 * S3 unreachable (MinIO stopped): requests that need the storage are answered 503 with
 * `Retry-After` in the envelope — the storage is down, nothing the client did is wrong — where
 * they were 500s logged as unhandled errors, and `/health/ready` says so too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';

describe('the storage unreachable', () => {
  let minio: Minio | undefined;
  let srv: RunningServer;
  let key = '';
  beforeAll(async () => {
    minio = await startMinio();
    srv = await startServer({ env: { ...minio.env(await minio.createBucket()), DISABLE_RATE_LIMIT: 'true', CACHE_MEMORY_BYTES: '0', CACHE_DISK_BYTES: '0' } });
    key = srv.bootstrap!.api_key;
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await minio?.stop();
  });

  test('reads and uploads answer 503 STORAGE_UNAVAILABLE with Retry-After (they were 500s)', async () => {
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'hello storage' });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    await minio!.stop();
    minio = undefined;
    const answers = [
      await fetch(`${srv.url}/i/${file.id}`),
      await fetch(`${srv.url}/d/${file.id}`, { headers: { range: 'bytes=0-3' } }),
      await fetch(`${srv.url}/api/files/${file.id}/original`, { headers: { authorization: `Bearer ${key}` } }),
      await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'another' }),
    ];
    const got = await Promise.all(answers.map(async (r) => [r.status, r.headers.get('retry-after') !== null, ((await r.json()) as { error: string }).error]));
    expect(got).toEqual(Array(4).fill([503, true, 'STORAGE_UNAVAILABLE']));
    expect((await fetch(`${srv.url}/health/ready`)).status).toBe(503);
    expect(srv.logs.filter((l) => l.level === 'error' && l.msg === 'unhandled error')).toEqual([]);
  }, 60_000);
});
