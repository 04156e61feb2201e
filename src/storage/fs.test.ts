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
