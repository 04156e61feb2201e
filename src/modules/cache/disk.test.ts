/**
 * The disk tier shared by two processes (one `CACHE_DIR`, WORKERS=N or an API beside its worker):
 * what one removes, the other stops offering.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../logger';
import { derivativeKey } from './derivatives';
import { createDiskTier } from './disk';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pictor-disk-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a rendition the other process removed is no longer offered by fileOf, and one it made is found', async () => {
  const log = createLogger('silent');
  const [a, b] = [createDiskTier(dir, 1 << 20, log), createDiskTier(dir, 1 << 20, log)];
  await a.open();
  await b.open();
  const k = derivativeKey('ab'.repeat(32), 'w_96', 'mp4');
  const tmp = a.tempPath();
  await writeFile(tmp, new Uint8Array(1000));
  await a.adopt(k, tmp, 1000);

  const found = await b.fileOf(k); // made by A: found on disk and indexed by B
  expect(found?.size).toBe(1000);
  expect(b.stats().items).toBe(1);

  await unlink(found?.path ?? ''); // A evicts it
  expect(await b.fileOf(k)).toBeUndefined();
  expect(b.stats().items).toBe(0);

  // A makes it again, and once more smaller: B answers the size on disk, not the one it indexed.
  const again = a.tempPath();
  await writeFile(again, new Uint8Array(3000));
  await a.adopt(k, again, 3000);
  expect((await b.fileOf(k))?.size).toBe(3000);
  const tmp2 = a.tempPath();
  await writeFile(tmp2, new Uint8Array(2000));
  await a.adopt(k, tmp2, 2000);
  expect((await b.fileOf(k))?.size).toBe(2000);
  expect(b.stats().bytes).toBe(2000);
});
