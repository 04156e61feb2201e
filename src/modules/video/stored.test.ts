/**
 * The store of video renditions for other cache folders (stored.ts): bounded by
 * `VIDEO_STORED_BYTES` (least recently used go first), copied into a cache on demand, removed
 * with their original, orphans swept. On the app's own PGlite and disk storage.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { createLogger } from '../../logger';
import { createDiskTier } from '../cache/disk';
import { derivativeKey } from '../cache/derivatives';
import type { DerivativeKey } from '../cache/types';
import { deleteStoredRenditions, fetchStoredRendition, renditionKey, storeRendition, sweepStoredRenditions } from './stored';
import { videoRenditions } from './table';

let scratch = '';
const sha = (n: number) => n.toString(16).padStart(64, 'a');

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pictor-stored-'));
});
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe.each(DB_BACKENDS)('stored renditions on %s', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ db, env: { VIDEO_STORED_BYTES: '2500' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A 1000-byte "rendition" of original `n`, stored. */
  async function store(n: number): Promise<DerivativeKey> {
    const k = derivativeKey(sha(n), 'w_96', 'mp4');
    const path = join(scratch, `${db}-${n}.mp4`);
    await writeFile(path, new Uint8Array(1000).fill(n));
    await storeRendition(t.deps, k, path, t.deps.delivery.cache.epochOf(k.sha256));
    return k;
  }
  const objectPath = (k: DerivativeKey) => join(t.dataDir, 'files', renditionKey(k));
  const storedKeys = async () => (await t.deps.db.select({ key: videoRenditions.key }).from(videoRenditions)).map((r) => r.key).sort();

  test('past VIDEO_STORED_BYTES the least recently used go, object and row; a copy counts as a use', async () => {
    const k1 = await store(1);
    const k2 = await store(2);
    expect(existsSync(objectPath(k1))).toBe(true);
    const k3 = await store(3); // 3000 bytes > 2500: the oldest goes
    expect(await storedKeys()).toEqual([renditionKey(k2), renditionKey(k3)].sort());
    expect(existsSync(objectPath(k1))).toBe(false);

    // Copied into this process's cache: the same bytes, and k2 is now the most recently used.
    const copied = await fetchStoredRendition(t.deps, k2);
    if (!copied || !('path' in copied)) throw new Error(`not copied into the cache: ${JSON.stringify(copied)}`);
    expect(copied.size).toBe(1000);
    expect(new Uint8Array(await Bun.file(copied.path).arrayBuffer())).toEqual(new Uint8Array(1000).fill(2));
    const k4 = await store(4);
    expect(await storedKeys()).toEqual([renditionKey(k2), renditionKey(k4)].sort());
    expect(existsSync(objectPath(k3))).toBe(false);
  });

  test('a rendition larger than VIDEO_STORED_BYTES is refused with the reason (stored, it would be trimmed at once)', async () => {
    const k = derivativeKey(sha(9), 'w_96', 'mp4');
    const path = join(scratch, `${db}-big.mp4`);
    await writeFile(path, new Uint8Array(3000));
    await expect(storeRendition(t.deps, k, path, 0)).rejects.toThrow('larger than VIDEO_STORED_BYTES');
    expect(await storedKeys()).not.toContain(renditionKey(k));
  });

  test('a rendition whose original went is removed, row and object; asking for it then finds nothing', async () => {
    const k = await store(5);
    await deleteStoredRenditions(t.deps, k.sha256);
    expect(await storedKeys()).not.toContain(renditionKey(k));
    expect(existsSync(objectPath(k))).toBe(false);
    expect(await fetchStoredRendition(t.deps, k)).toBeUndefined();
  });

  test('a row whose object is gone is dropped when asked for', async () => {
    const k = await store(6);
    await rm(objectPath(k));
    expect(await fetchStoredRendition(t.deps, k)).toBeUndefined();
    expect(await storedKeys()).not.toContain(renditionKey(k));
  });

  test('the prune step removes an old object without a row (a crash between the two), and keeps the others', async () => {
    const kept = await store(7);
    const orphan = derivativeKey(sha(8), 'w_96', 'mp4');
    const path = objectPath(orphan);
    await t.deps.storage.put(renditionKey(orphan), new Blob([new Uint8Array(10)]).stream());
    const old = new Date(Date.now() - t.deps.config.abandonedUploadAfterMs - 60_000);
    await utimes(path, old, old);
    await utimes(objectPath(kept), old, old);
    expect(await sweepStoredRenditions(t.deps)).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(objectPath(kept))).toBe(true);
  });
});

test('processes sharing a cache folder share its id; another folder has another', async () => {
  const log = createLogger('silent');
  const [a, b] = [createDiskTier(join(scratch, 'one'), 1 << 20, log), createDiskTier(join(scratch, 'one'), 1 << 20, log)];
  const c = createDiskTier(join(scratch, 'two'), 1 << 20, log);
  await Promise.all([a.open(), b.open(), c.open()]);
  const [ia, ib, ic] = await Promise.all([a.identity(), b.identity(), c.identity()]);
  expect(ia.length).toBeGreaterThan(15);
  expect(ib).toBe(ia);
  expect(ic).not.toBe(ia);
  // An empty id file (a crash mid-write) is replaced, not taken as the id ''.
  await mkdir(join(scratch, 'three'), { recursive: true });
  await writeFile(join(scratch, 'three', 'cache-id'), '');
  const d = createDiskTier(join(scratch, 'three'), 1 << 20, log);
  await d.open();
  const id = await d.identity();
  expect(id.length).toBeGreaterThan(15);
  expect(await Bun.file(join(scratch, 'three', 'cache-id')).text()).toBe(id);
});

test('a stored rendition this cache cannot keep (over CACHE_DISK_BYTES / 8) is read from the storage', async () => {
  const small = await makeTestApp({ env: { VIDEO_STORED_BYTES: '2500', CACHE_DISK_BYTES: '4000' } });
  try {
    const k = derivativeKey(sha(10), 'w_96', 'mp4');
    const path = join(scratch, 'small-cache.mp4');
    await writeFile(path, new Uint8Array(1000).fill(7));
    await storeRendition(small.deps, k, path, 0);
    expect(await fetchStoredRendition(small.deps, k)).toEqual({ key: renditionKey(k), size: 1000, mtimeMs: 0 });
  } finally {
    await small.close();
  }
});
