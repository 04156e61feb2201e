/**
 * S3 unreachable (MinIO stopped): requests that need the storage are answered 503 with
 * `Retry-After` in the envelope — the storage is down, nothing the client did is wrong — where
 * they were 500s logged as unhandled errors, and `/health/ready` says so too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomFillSync } from 'node:crypto';
import sharp from 'sharp';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { until } from '../helpers/until';

describe('the storage unreachable', () => {
  let minio: Minio | undefined;
  let srv: RunningServer;
  let key = '';
  beforeAll(async () => {
    minio = await startMinio();
    srv = await startServer({ env: { ...minio.env(await minio.createBucket()), DISABLE_RATE_LIMIT: 'true', CACHE_MEMORY_BYTES: '0', CACHE_DISK_BYTES: '0', SOURCE_CACHE_BYTES: '0' } });
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

/**
 * An S3 answer's body cut off mid-read (Bun's fetch and node:http fail it outside the SDK, which
 * did not mark it as the storage's: a 500 logged as a bug) and a part lost while it streams. A tus
 * PATCH so failed is a 503 (or cut) and its upload keeps every byte an earlier PATCH acknowledged:
 * the client resumes from `HEAD`'s offset and the finished file is the source's. On Deno too: its
 * S3 client goes through node:http's handler.
 */
for (const runtime of ['bun', 'deno'] as const) describe(`the storage failing mid-request: an answer cut off, a part lost (${runtime})`, () => {
  let minio: Minio;
  let proxy: TcpProxy;
  let srv: RunningServer;
  beforeAll(async () => {
    minio = await startMinio();
    const bucket = await minio.createBucket();
    const direct = new URL(minio.endpoint);
    proxy = await startTcpProxy(direct.hostname, Number(direct.port));
    srv = await startServer({ runtime, env: { ...minio.env(bucket), S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`, DISABLE_RATE_LIMIT: 'true', CACHE_MEMORY_BYTES: '0', CACHE_DISK_BYTES: '0', SOURCE_CACHE_BYTES: '0' } });
  }, 120_000);
  afterAll(async () => {
    await srv?.close();
    await proxy?.close();
    await minio?.stop();
  });

  test('a tus PATCH whose storage fails (its tail read cut off, a part lost) is a 503; the upload resumes from the acknowledged offset with the source\'s bytes', async () => {
    const MiB = 1024 * 1024;
    const source = new Uint8Array(20 * MiB);
    // Text (a type the server takes) that differs from block to block.
    for (let i = 0; i < source.length; i += 4096) source.fill(0x61 + ((i / 4096) % 26), i, i + 4096);
    const auth = { authorization: `Bearer ${srv.bootstrap!.api_key}`, 'tus-resumable': '1.0.0' };
    const created = await fetch(`${srv.url}/api/uploads/tus`, { method: 'POST', headers: { ...auth, 'upload-length': String(source.length), 'upload-metadata': `filename ${btoa('big.txt')}` } });
    expect(created.status).toBe(201);
    const url = new URL(created.headers.get('location')!, srv.url).href;
    const patch = (offset: number, body: BodyInit) => fetch(url, {
      method: 'PATCH', body, duplex: 'half', headers: { ...auth, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    } as RequestInit);
    expect((await patch(0, source.subarray(0, 10 * MiB))).status).toBe(204);

    // The next chunk begins with the stored 2 MiB tail, read back: its body is cut off 64 KiB in
    // (Bun's fetch failed the read with a bare ECONNRESET: a 500 logged as a bug).
    proxy.cutAnswer(Buffer.from('.tail?x-id=GetObject'), 64 * 1024);
    const cutRead = await patch(10 * MiB, source.subarray(10 * MiB, 17 * MiB));
    expect(proxy.answersCut()).toBe(1);
    expect([cutRead.status, cutRead.headers.get('tus-resumable'), ((await cutRead.json()) as { error: string }).error]).toEqual([503, '1.0.0', 'STORAGE_UNAVAILABLE']);

    // The next chunk: the storage goes away 3 MiB into it (the part holding 8–16 MiB is streaming).
    let sent = 10 * MiB;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent === 13 * MiB) proxy.cut();
        if (sent >= source.length) return c.close();
        c.enqueue(source.slice(sent, sent + 256 * 1024));
        sent += 256 * 1024;
      },
    });
    const failed = await patch(10 * MiB, body).catch((err: Error) => err);
    if (!(failed instanceof Error)) {
      expect([failed.status, failed.headers.get('tus-resumable'), ((await failed.json()) as { error: string }).error]).toEqual([503, '1.0.0', 'STORAGE_UNAVAILABLE']);
    }
    proxy.restore();

    // What an earlier PATCH acknowledged is still there; the client resumes from HEAD's offset.
    const head = await until('HEAD to answer', async () => {
      const r = await fetch(url, { method: 'HEAD', headers: auth });
      return r.status === 200 ? r : null;
    });
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(10 * MiB);
    expect(offset).toBeLessThan(source.length);
    const done = await patch(offset, source.subarray(offset));
    expect([done.status, done.headers.get('upload-offset')]).toEqual([204, String(source.length)]);
    const file = await until('the file row', async () => {
      const r = await fetch(`${srv.url}/api/files?limit=1`, { headers: auth });
      return ((await r.json()) as { results: { id: string; sha256: string; size: number }[] }).results[0] ?? null;
    });
    expect([file.size, file.sha256]).toEqual([source.length, createHash('sha256').update(source).digest('hex')]);
    expect(srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  }, 180_000);

  test('a transformation whose original\'s body is cut off mid-read answers 503 (it was a 500 logged as a bug)', async () => {
    const auth = { authorization: `Bearer ${srv.bootstrap!.api_key}` };
    const noise = randomFillSync(new Uint8Array(512 * 512 * 3)); // a PNG of ~800 kB
    const png = await sharp(noise, { raw: { width: 512, height: 512, channels: 3 } }).png().toBuffer();
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(png) });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    // Its derive job reads the original too (metadata, then its eager renders, which a request for
    // the same original joins): completed first, so the cut falls on the transformation's own read.
    await until('the derive job to complete', async () => {
      const r = await fetch(`${srv.url}/api/queue/jobs?type=derive`, { headers: auth });
      const jobs = ((await r.json()) as { results: { file_id: string | null; status: string }[] }).results.filter((j) => j.file_id === file.id);
      return jobs.length > 0 && jobs.every((j) => j.status === 'completed') ? true : null;
    });
    const cuts = proxy.answersCut();
    proxy.cutAnswer(Buffer.from(`${file.id}?x-id=GetObject`), 64 * 1024);
    const cut = await fetch(`${srv.url}/t/w_64/${file.id}`);
    expect(proxy.answersCut()).toBe(cuts + 1);
    expect([cut.status, ((await cut.json()) as { error: string }).error]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect((await fetch(`${srv.url}/t/w_64/${file.id}`)).status).toBe(200);
    expect(srv.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  }, 120_000);

  test('an upload whose derive job meets the storage failing gets its blurhash once the job is tried again (it stayed null)', async () => {
    const auth = { authorization: `Bearer ${srv.bootstrap!.api_key}` };
    const png = await sharp(randomFillSync(new Uint8Array(512 * 512 * 3)), { raw: { width: 512, height: 512, channels: 3 } }).png().toBuffer();
    // The upload reads ranges of what it stored; the derive job reads the whole object.
    proxy.cutAnswer((sent) => sent.includes('?x-id=GetObject') && !/^range:/im.test(sent.toString('latin1')), 64 * 1024);
    const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body: new Uint8Array(png) });
    expect(up.status).toBe(201);
    const { file } = (await up.json()) as { file: { id: string } };
    const cuts = proxy.answersCut();
    const blurhash = await until('the blurhash', async () => {
      const r = await fetch(`${srv.url}/api/files/${file.id}`, { headers: auth });
      return ((await r.json()) as { blurhash: string | null }).blurhash;
    });
    expect(blurhash.length).toBeGreaterThan(5);
    expect(proxy.answersCut()).toBe(cuts + 1); // the job's read was cut, and the job tried again
  }, 120_000);
});
