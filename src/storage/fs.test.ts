/**
 * fs-driver specifics beyond the shared contract: a stream from `get` that is never read holds
 * no file descriptor (an unsent response must not leave one for the GC to close), and one read
 * to the end releases its descriptor.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStorage } from './fs';
import type { StorageDriver } from './types';

let dir: string;
let storage: StorageDriver;
const openFds = async () => (await readdir('/proc/self/fd')).length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pictor-fs-'));
  storage = await createFsStorage(dir);
  await storage.put('a/b', new Blob([new Uint8Array(600 * 1024).fill(7)]).stream());
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('unread streams hold no descriptor; a fully read one releases its own', async () => {
  const before = await openFds();
  const streams = await Promise.all(Array.from({ length: 20 }, () => storage.get('a/b')));
  expect(streams.every((s) => s !== null)).toBe(true);
  expect(await openFds()).toBe(before);
  const bytes = new Uint8Array(await new Response(streams[0]).arrayBuffer());
  expect(bytes.byteLength).toBe(600 * 1024);
  expect(await openFds()).toBe(before);
  const partial = (await storage.get('a/b', { start: 10, end: 19 }))!;
  const reader = partial.getReader();
  expect((await reader.read()).value?.byteLength).toBe(10);
  await reader.cancel();
  expect(await openFds()).toBe(before);
});

test('a delete removes the folders it leaves empty (not the root); a put racing it into the same folder still lands', async () => {
  await storage.put('renditions/ab/w_96.mp4', new Blob(['x']).stream());
  await storage.delete('renditions/ab/w_96.mp4');
  expect(await readdir(dir)).not.toContain('renditions');
  expect(await readdir(dir)).toContain('a'); // not empty: kept

  // Each round, the folder's last objects go while others are renamed into it (without the retry
  // in renameIntoPlace, about 7 puts in 300 rounds failed with ENOENT here).
  for (let i = 0; i < 300; i++) {
    await storage.put(`race/${i}/old`, new Blob(['old']).stream());
    await Promise.all([
      storage.put(`race/${i}/n1`, new Blob(['n1']).stream()), storage.delete(`race/${i}/old`),
      storage.put(`race/${i}/n2`, new Blob(['n2']).stream()), storage.delete(`race/${i}/n1`),
    ]);
    expect(await storage.head(`race/${i}/n2`)).not.toBeNull();
  }
  for (let i = 0; i < 300; i++) for (const name of ['n1', 'n2']) await storage.delete(`race/${i}/${name}`); // n1 stays when its delete ran first
  expect((await readdir(dir)).sort()).toEqual(['.tmp', 'a']);

  // A prefix removed whole (a video's stored renditions) leaves no folder either.
  for (const name of ['w_96.mp4', 'deep/w_200.webm']) await storage.put(`renditions/cd/${name}`, new Blob(['x']).stream());
  expect(await storage.deletePrefix('renditions/cd/')).toBe(2);
  expect((await readdir(dir)).sort()).toEqual(['.tmp', 'a']);
}, 120_000);
