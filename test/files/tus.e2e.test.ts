/**
 * Resumable uploads over tus (issue #22) with the real `tus-js-client` against a started server,
 * on disk and on S3 (MinIO): a connection killed mid-chunk and a server restarted between two
 * chunks both resume to a file whose sha256 is the source's; and the rules every upload obeys
 * (limit at creation and while receiving, sniffed type, quota, rate limits, checksum, expiry).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Upload, type HttpResponse } from 'tus-js-client';
import { startMinio, type Minio } from '../helpers/minio';
import { startServer, type RunningServer } from '../helpers/server';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Random hex text (sniffed as text/plain, an allowed type). */
const textBytes = (n: number) => Buffer.from(randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

interface RunOptions {
  endpoint: string;
  key: string;
  data: Buffer;
  chunkSize?: number;
  uploadUrl?: string;
  metadata?: Record<string, string>;
  /** Called with the upload and the bytes sent so far, on progress. */
  onProgress?: (u: Upload, sent: number) => void;
  onChunkComplete?: (u: Upload, accepted: number) => void;
}

/** Starts a tus-js-client upload; `done` settles with the last response (or the error), `upload` to abort or resume. */
function tus(o: RunOptions) {
  let settle!: (r: { response?: HttpResponse; error?: Error }) => void;
  const done = new Promise<{ response?: HttpResponse; error?: Error }>((r) => (settle = r));
  const upload: Upload = new Upload(o.data, {
    endpoint: o.endpoint,
    uploadUrl: o.uploadUrl ?? null,
    chunkSize: o.chunkSize ?? 5 * MiB,
    retryDelays: null,
    headers: { authorization: `Bearer ${o.key}` },
    metadata: o.metadata ?? { filename: 'big.txt', filetype: 'text/plain' },
    onProgress: (sent) => o.onProgress?.(upload, sent),
    onChunkComplete: (_size, accepted) => o.onChunkComplete?.(upload, accepted),
    onSuccess: ({ lastResponse }) => settle({ response: lastResponse }),
    onError: (error) => settle({ error }),
  });
  upload.start();
  return { upload, done };
}

async function fileOf(srv: RunningServer, key: string, id: string) {
  const res = await fetch(`${srv.url}/api/files/${id}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; sha256: string; size: number; name: string; folder: string; is_public: boolean };
}

async function storedSha(srv: RunningServer, key: string, id: string): Promise<string> {
  const res = await fetch(`${srv.url}/api/files/${id}/original`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return sha(new Uint8Array(await res.arrayBuffer()));
}

let minio: Minio | undefined;
afterAll(() => minio?.stop());

for (const driver of ['fs', 's3'] as const) {
  describe(`tus resumable uploads to ${driver}`, () => {
    let srv: RunningServer;
    let env: Record<string, string> = {};
    let key = '';
    let bucket = '';
    let firstDir = '';
    const endpoint = () => `${srv.url}/api/uploads/tus`;

    beforeAll(async () => {
      if (driver === 's3') {
        minio ??= await startMinio();
        bucket = await minio.createBucket();
        env = minio.env(bucket);
      }
      srv = await startServer({ env });
      key = srv.bootstrap!.api_key;
      firstDir = srv.dataDir;
    }, 120_000);
    afterAll(async () => {
      await srv?.close();
      await rm(firstDir, { recursive: true, force: true }); // the restarted server does not own it
    });

    test('50 MiB in 5 MiB chunks: the connection killed mid-chunk, resumed, same sha256', async () => {
      const data = textBytes(50 * MiB);
      let aborted = false;
      const first = tus({
        endpoint: endpoint(), key, data,
        onProgress: (u, sent) => {
          // Mid-chunk: 22 MiB is inside the fifth 5 MiB chunk.
          if (!aborted && sent >= 22 * MiB) {
            aborted = true;
            void u.abort();
          }
        },
      });
      await waitFor('the abort', async () => aborted);
      const url = first.upload.url as string;
      expect(url).toContain('/api/uploads/tus/');
      // The server kept what arrived of the cut chunk, or at least the chunks before it.
      const offset = await waitFor('a settled offset', async () => {
        const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0' } });
        expect(head.status).toBe(200);
        const n = Number(head.headers.get('upload-offset'));
        // Wait until the cut PATCH has finished on the server (its lease is free and the offset stable).
        const probe = await fetch(url, {
          method: 'PATCH', body: new Uint8Array(0),
          headers: { authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', 'upload-offset': String(n), 'content-type': 'application/offset+octet-stream' },
        });
        return probe.status === 204 ? n : undefined;
      });
      expect(offset).toBeGreaterThanOrEqual(20 * MiB);
      expect(offset).toBeLessThan(50 * MiB);
      const second = tus({ endpoint: endpoint(), key, data, uploadUrl: url });
      const { response, error } = await second.done;
      expect(error).toBeUndefined();
      const id = response!.getHeader('x-file-id') as string;
      const file = await fileOf(srv, key, id);
      expect(file.size).toBe(data.length);
      expect(file.sha256).toBe(sha(data));
      expect(await storedSha(srv, key, id)).toBe(sha(data));
      if (driver === 's3') expect(await minio!.pendingUploads(bucket)).toBe(0);
      else expect(await readdir(join(srv.dataDir, 'files', '.tus'))).toEqual([]);
    }, 180_000);

    test('the server restarted between two chunks: the upload goes on from its offset', async () => {
      const data = textBytes(50 * MiB);
      let stopAt = 0;
      const first = tus({
        endpoint: endpoint(), key, data,
        onChunkComplete: (u, accepted) => {
          if (!stopAt && accepted >= 15 * MiB) {
            stopAt = accepted;
            void u.abort();
          }
        },
      });
      await waitFor('three chunks', async () => stopAt > 0);
      const path = new URL(first.upload.url as string).pathname;
      await srv.stop();
      srv = await startServer({ env, dataDir: srv.dataDir });
      const second = tus({ endpoint: endpoint(), key, data, uploadUrl: `${srv.url}${path}` });
      const { response, error } = await second.done;
      expect(error).toBeUndefined();
      const id = response!.getHeader('x-file-id') as string;
      expect((await fileOf(srv, key, id)).sha256).toBe(sha(data));
      expect(await storedSha(srv, key, id)).toBe(sha(data));
    }, 240_000);
  });
}
