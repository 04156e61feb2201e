/**
 * The S3 tus store on a real MinIO: a PATCH body that ends early while its tail is already on
 * its way to S3 drops that request. Its rejection was left unhandled and took the whole server
 * process down (every upload in flight with it); `bun test` fails on such a rejection too.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { startMinio, type Minio } from '../../../test/helpers/minio';
import { createS3TusStore } from './store-s3';
import type { StoreState } from './store-shared';

let minio: Minio;
let dataDir = '';
beforeAll(async () => {
  minio = await startMinio();
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-tus-s3-'));
}, 60_000);
afterAll(async () => {
  await minio?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('a body that ends before its declared length, while its tail is being sent, fails that PATCH only', async () => {
  const store = createS3TusStore(loadConfig({ DATA_DIR: dataDir, ...minio.env(await minio.createBucket()) }));
  const { s3UploadId } = await store.begin('user/file1');
  const state = { id: 'a'.repeat(32), storageKey: 'user/file1', s3UploadId, parts: [], tailSize: 0, offset: 0 } as unknown as StoreState;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= 1024 * 1024) return c.error(new Error('the client went away'));
      c.enqueue(new Uint8Array(256 * 1024).fill(97));
      sent += 256 * 1024;
    },
  });
  // 3 MiB declared, below a part: the tail is sent while it arrives; 1 MiB comes, then the body fails.
  const pending = await store.write(state, body, false, { bytes: 3 * 1024 * 1024, completes: false });
  expect(String(pending.error)).toContain('the client went away');
  await pending.reject();
  await store.discard(state);
  await store.close();
}, 60_000);
