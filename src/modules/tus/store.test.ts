/**
 * The tus stores made safe to finish twice (on disk and on a real MinIO): a server killed after
 * the store made the object, before the file was committed, finishes it again after the restart.
 * The fs store then found its part gone: a write re-created it as zeros of the stored length,
 * and completing moved that over the object; completing again failed on S3. With neither the
 * part nor the object left, completing is a 410 (the upload can never end).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { startMinio, type Minio } from '../../../test/helpers/minio';
import { createTusStore, type StoreState } from './store';

let minio: Minio | undefined;
let dataDir = '';
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-tus-store-'));
});
afterAll(async () => {
  await minio?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const bytes = new TextEncoder().encode('the whole upload, saved before the crash');
const bodyOf = (b: Uint8Array) => new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(b), c.close()) });

describe.each(['fs', 's3'] as const)('the %s tus store', (driver) => {
  test('completes an upload it completed already, and never writes zeros over it', async () => {
    let env: Record<string, string> = { DATA_DIR: dataDir };
    if (driver === 's3') {
      minio ??= await startMinio();
      env = { ...env, ...minio.env(await minio.createBucket()) };
    }
    const config = loadConfig(env);
    const store = await createTusStore(config);
    const storageKey = `user/${driver}-file`;
    const { s3UploadId } = await store.begin(storageKey);
    const state: StoreState = { id: driver.padEnd(32, 'x'), storageKey, s3UploadId, parts: [], tailSize: 0, offset: 0 };
    const pending = await store.write(state, bodyOf(bytes), false, { bytes: bytes.byteLength, completes: true });
    expect(pending.bytes).toBe(bytes.byteLength);
    const whole = { ...state, ...(await pending.accept(true)), offset: bytes.byteLength };
    await store.complete(whole);
    // The finish again, after a restart: the object stands as it was.
    await store.complete(whole);
    if (driver === 'fs') {
      // A write after the part became the object is refused; it made a part of zeros.
      await expect(store.write(whole, bodyOf(new Uint8Array(0)), false, null)).rejects.toMatchObject({ status: 410 });
      await store.complete(whole);
    }
    const stored = driver === 'fs'
      ? new Uint8Array(await readFile(join(dataDir, 'files', storageKey)))
      : await (await minio!.client.send(new GetObjectCommand({ Bucket: config.s3.bucket!, Key: storageKey }))).Body!.transformToByteArray();
    expect(Buffer.from(stored).toString()).toBe(Buffer.from(bytes).toString());
    // Part and object both gone (a failed finish removed the bytes): a 410 the upload is removed on, not a raw ENOENT or NoSuchUpload (a 500 at every HEAD).
    if (driver === 'fs') await rm(join(dataDir, 'files', storageKey));
    else await minio!.client.send(new DeleteObjectCommand({ Bucket: config.s3.bucket!, Key: storageKey }));
    await expect(store.complete(whole)).rejects.toMatchObject({ status: 410 });
    await store.close();
  }, 60_000);
});
