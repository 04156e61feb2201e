/**
 * Tier 2: derivatives on disk under `CACHE_DIR`, bounded by bytes (`CACHE_DISK_BYTES`) with
 * least-recently-used eviction.
 *
 * Layout: `<dir>/<sha[0..2]>/<sha256>/<variant>.<ext>`: everything derived from one original
 * sits in one directory, so removing them is one `rename` away (then deleted in the background).
 * Writes go to `<dir>/tmp/` and are renamed into place, so a reader never sees half a file and a
 * crash leaves only temp files, which the next start deletes: those of dead processes only, as
 * a sibling process sharing the folder (WORKERS=N) may be writing its own (lib/owned-temp.ts). The in-memory index (an LRU by
 * bytes) is rebuilt from the directory at start, oldest modification first.
 */
import { LRUCache } from 'lru-cache';
import { link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ownedTempName, sweepOwnedTemp } from '../../lib/owned-temp';
import { randomString } from '../../lib/random';
import type { Logger } from '../../logger';
import { CONTENT_TYPES, type CachedDerivative, type DerivativeKey, type TierStats } from './types';

interface DiskEntry {
  size: number;
  mtimeMs: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const FILE_RE = /^([0-9a-f]{32})\.([a-z]{3,4})$/;

export function createDiskTier(dir: string, maxBytes: number, log: Logger) {
  const tmpDir = join(dir, 'tmp');
  const trashDir = join(dir, 'trash');
  const pathOf = (sha256: string, name: string) => join(dir, sha256.slice(0, 2), sha256, name);
  const index = new LRUCache<string, DiskEntry>({
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: (e) => Math.max(1, e.size),
    // Only evictions unlink: deletes come from purges, which remove the whole directory.
    dispose: (_entry, key, reason) => {
      if (reason !== 'evict') return;
      const [sha, name] = key.split('/');
      if (sha && name) unlink(pathOf(sha, name)).catch(() => {});
    },
  });
  let hits = 0;
  let misses = 0;

  /** Rebuilds the index from the directory and clears leftovers of a previous run. */
  async function open(): Promise<void> {
    await mkdir(tmpDir, { recursive: true });
    // Another host's leftovers on a shared volume go by age: a derivative is written in one call.
    await sweepOwnedTemp(tmpDir, { atStart: true, olderThan: new Date(Date.now() - 3_600_000) });
    await rm(trashDir, { recursive: true, force: true });
    const found: { key: string; size: number; mtimeMs: number }[] = [];
    for (const prefix of await readdir(dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const sha of await readdir(join(dir, prefix)).catch(() => [] as string[])) {
        if (!HEX64.test(sha)) continue;
        for (const name of await readdir(join(dir, prefix, sha)).catch(() => [] as string[])) {
          if (!FILE_RE.test(name)) continue;
          const st = await stat(join(dir, prefix, sha, name)).catch(() => null);
          if (st?.isFile()) found.push({ key: `${sha}/${name}`, size: st.size, mtimeMs: st.mtimeMs });
        }
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of found) index.set(f.key, { size: f.size, mtimeMs: f.mtimeMs });
    log.info({ items: index.size, bytes: index.calculatedSize }, 'derivative disk cache indexed');
  }

  const nameOf = (k: DerivativeKey) => `${k.variant}.${k.ext}`;

  /**
   * The folder's id, made by the first process that asks (linked into place: one winner among
   * processes sharing the folder). Two processes with the same id see the same files.
   */
  async function makeIdentity(): Promise<string> {
    const path = join(dir, 'cache-id');
    const found = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (found) return found;
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${ownedTempName(randomString(16))}.part`);
    const id = randomString(22);
    await writeFile(tmp, id);
    try {
      await link(tmp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A file system without hard links (vfat, some network mounts): renamed into place, the last
      // writer wins; an empty id file (a crash mid-write elsewhere) is replaced.
      const noLinks = code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP';
      const empty = code === 'EEXIST' && !(await readFile(path, 'utf8').catch(() => '')).trim();
      if (noLinks || empty) await rename(tmp, path);
      else if (code !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    return (await readFile(path, 'utf8')).trim() || id;
  }
  let identity: Promise<string> | undefined;

  return {
    open,
    /** This cache folder's id (video/stored.ts); rejects when the folder cannot be written. */
    identity(): Promise<string> {
      identity ??= makeIdentity().catch((err: unknown) => {
        identity = undefined; // asked again next time
        throw err;
      });
      return identity;
    },
    /** Reads a derivative, or undefined when it is not (or no longer) on disk. */
    async get(k: DerivativeKey): Promise<CachedDerivative | undefined> {
      const key = `${k.sha256}/${nameOf(k)}`;
      const entry = index.get(key);
      if (!entry) {
        misses++;
        return undefined;
      }
      try {
        const body = await readFile(pathOf(k.sha256, nameOf(k)));
        hits++;
        return {
          body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
          contentType: CONTENT_TYPES[k.ext] ?? 'application/octet-stream',
          etag: `"${k.variant}"`,
          lastModified: new Date(entry.mtimeMs).toUTCString(),
        };
      } catch {
        // Removed behind our back (another instance sharing the directory purged it).
        index.delete(key);
        misses++;
        return undefined;
      }
    },
    /** Writes atomically (temp file + rename); a failure only costs a future re-render. */
    /** The largest file the tier keeps (an eighth of it; 0 when it is off). */
    largest: Math.floor(maxBytes / 8),
    async set(k: DerivativeKey, body: Uint8Array): Promise<void> {
      if (body.byteLength > maxBytes / 8) return;
      const tmp = join(tmpDir, `${ownedTempName(randomString(16))}.part`);
      const final = pathOf(k.sha256, nameOf(k));
      try {
        await writeFile(tmp, body);
        await mkdir(join(dir, k.sha256.slice(0, 2), k.sha256), { recursive: true });
        await rename(tmp, final);
        index.set(`${k.sha256}/${nameOf(k)}`, { size: body.byteLength, mtimeMs: Date.now() });
      } catch (err) {
        await unlink(tmp).catch(() => {});
        log.warn({ err: (err as Error).message }, 'derivative disk write failed');
      }
    },
    /**
     * The path of a derivative on disk and its size (video renditions are streamed from it). Always
     * looked for, indexed or not: a process sharing `CACHE_DIR` may have made it, or evicted it (a
     * stream opened on a missing path fails after its 200 went out).
     */
    async fileOf(k: DerivativeKey): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
      const key = `${k.sha256}/${nameOf(k)}`;
      const path = pathOf(k.sha256, nameOf(k));
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) {
        index.delete(key);
        return undefined;
      }
      let entry = index.get(key);
      // Not indexed yet, or written again by another process since (Last-Modified and If-Range follow the file).
      if (entry?.size !== st.size || entry.mtimeMs !== st.mtimeMs) index.set(key, (entry = { size: st.size, mtimeMs: st.mtimeMs }));
      return { path, size: entry.size, mtimeMs: entry.mtimeMs };
    },
    /** A temp path in this tier's temp folder (removed at start if left by a crash). */
    tempPath: (): string => join(tmpDir, `${ownedTempName(randomString(16))}.part`),
    /** Moves a finished file (written at `tempPath()`) into place and indexes it. */
    async adopt(k: DerivativeKey, tmp: string, size: number): Promise<void> {
      // The index refuses an entry over its bound without a word: the file would stay on disk, never counted nor evicted.
      if (size > maxBytes / 8) throw new Error(`a file of ${size} bytes is over the ${Math.floor(maxBytes / 8)} bytes the disk cache keeps (CACHE_DISK_BYTES / 8)`);
      await mkdir(join(dir, k.sha256.slice(0, 2), k.sha256), { recursive: true });
      await rename(tmp, pathOf(k.sha256, nameOf(k)));
      index.set(`${k.sha256}/${nameOf(k)}`, { size, mtimeMs: Date.now() });
    },
    /** Removes every derivative of one original in one step; returns how many were indexed. */
    async deleteOriginal(sha256: string): Promise<number> {
      if (!HEX64.test(sha256)) return 0;
      let n = 0;
      for (const key of [...index.keys()]) if (key.startsWith(`${sha256}/`) && index.delete(key)) n++;
      const trash = join(trashDir, `${sha256}-${randomString(8)}`);
      try {
        await mkdir(trashDir, { recursive: true });
        await rename(join(dir, sha256.slice(0, 2), sha256), trash);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return n;
      }
      void rm(trash, { recursive: true, force: true }).catch(() => {});
      return n;
    },
    stats: (): TierStats => ({ items: index.size, bytes: index.calculatedSize, max_bytes: maxBytes, hits, misses }),
  };
}

export type DiskTier = ReturnType<typeof createDiskTier>;
