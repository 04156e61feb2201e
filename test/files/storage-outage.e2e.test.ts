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
    // A resumable upload begun while the storage was there: its parts are streamed as they arrive.
    const tus = await fetch(`${srv.url}/api/uploads/tus`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-length': String(20 * 1024 * 1024), 'upload-metadata': `filename ${btoa('big.bin')}` },
    });
    expect(tus.status).toBe(201);
    const tusUrl = new URL(tus.headers.get('location')!, srv.url).href;
    await minio!.stop();
    minio = undefined;
    // A streamed part's failure came bare from the SDK (no `$metadata`): a 500 logged as a bug.
    const patch = await fetch(tusUrl, {
      method: 'PATCH', body: new Uint8Array(6 * 1024 * 1024),
      headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    });
    // With tus's header, as on its every answer (the global error mapper's 503 had none).
    expect([patch.status, patch.headers.get('tus-resumable'), ((await patch.json()) as { error: string }).error]).toEqual([503, '1.0.0', 'STORAGE_UNAVAILABLE']);
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

describe('the storage lost in the middle of a part', () => {
  let minio: Minio | undefined;
  let srv: RunningServer;
  beforeAll(async () => {
    minio = await startMinio();
    srv = await startServer({ env: { ...minio.env(await minio.createBucket()), DISABLE_RATE_LIMIT: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await minio?.stop();
  });

  test('an upload whose storage goes away while a part streams answers 503, nothing logged as a bug', async () => {
    const chunk = new Uint8Array(256 * 1024).fill(0x61); // text: a type the server takes
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        // Past the first 5 MiB part: the second is streaming into the storage when it goes.
        if (sent === 7 * 1024 * 1024 && minio) {
          await minio.stop();
          minio = undefined;
        }
        if (sent >= 12 * 1024 * 1024) return c.close();
        sent += chunk.length;
        c.enqueue(chunk);
      },
    });
    const res = await fetch(`${srv.url}/api/files`, {
      method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${srv.bootstrap!.api_key}`, 'content-type': 'text/plain' },
    } as RequestInit);
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(srv.logs.filter((l) => l.level === 'error')).toEqual([]);
  }, 120_000);
});

/**
 * S3 that accepts connections but stops answering (a frozen process, a partition): requests
 * waited on it without end (Bun's fetch has no time limit). Past `S3_TIMEOUT_MS` without
 * progress each S3 call is abandoned, retried, and the request answered 503 like an outage.
 */
describe('the storage frozen', () => {
  let minio: Minio | undefined;
  let srv: RunningServer;
  let frozen = 0;
  beforeAll(async () => {
    minio = await startMinio();
    srv = await startServer({ env: { ...minio.env(await minio.createBucket()), DISABLE_RATE_LIMIT: 'true', CACHE_MEMORY_BYTES: '0', CACHE_DISK_BYTES: '0', S3_TIMEOUT_MS: '1000' } });
  }, 120_000);
  afterAll(async () => {
    if (frozen) process.kill(frozen, 'SIGCONT');
    await srv?.close();
    await minio?.stop();
  });

  test('reads and uploads answer 503 STORAGE_UNAVAILABLE after S3_TIMEOUT_MS (they waited without end)', async () => {
    const key = srv.bootstrap!.api_key;
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'hello storage' });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    const port = new URL(minio!.endpoint).port;
    const line = Bun.spawnSync(['ps', '-eo', 'pid,args']).stdout.toString().split('\n').find((l) => l.includes('minio') && l.includes(`127.0.0.1:${port}`));
    frozen = Number(line!.trim().split(/\s+/)[0]);
    process.kill(frozen, 'SIGSTOP');
    const answers = await Promise.all([
      fetch(`${srv.url}/api/files/${file.id}/original`, { headers: { authorization: `Bearer ${key}` } }),
      fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'another' }),
      fetch(`${srv.url}/api/files`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' }, body: 'x'.repeat(20 * 1024 * 1024) }),
    ]);
    const got = await Promise.all(answers.map(async (r) => [r.status, ((await r.json()) as { error: string }).error]));
    expect(got).toEqual(Array(3).fill([503, 'STORAGE_UNAVAILABLE']));
    process.kill(frozen, 'SIGCONT');
    frozen = 0;
    // Back: the same requests work again.
    const again = await fetch(`${srv.url}/api/files/${file.id}/original`, { headers: { authorization: `Bearer ${key}` } });
    expect([again.status, await again.text()]).toEqual([200, 'hello storage']);
  }, 90_000);
});
