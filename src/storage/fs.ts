/**
 * Local-disk storage under one root (`DATA_DIR/files`). Writes go to
 * `<root>/.tmp/<host>~<pid>~<random>` on the same filesystem, are fsynced, then renamed into
 * place, so a reader never sees a half-written object and a crash leaves at most a temp file.
 * Temp files are owned by the process named in them: at start-up a process removes those of
 * dead processes of its host (and its own pid's, left by an earlier process with that pid), and
 * never those of a live sibling (WORKERS=N restarting one worker, issue #17.6); the rest (other
 * hosts on a shared volume, unknown names) go by age (`sweepAbandoned`).
 */
import { constants } from 'node:fs';
import { access, mkdir, open, opendir, readdir, rename, rm, rmdir, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ownedTempName, sweepOwnedTemp } from '../lib/owned-temp';
import { randomString } from '../lib/random';
import { fileSliceBody, readFileBytes } from '../platform/file-body';
import { createFileSink } from '../platform/file-sink';
import { releaseChunk } from '../platform/memory';
import { assertValidKey, ObjectTooLargeError, type ByteRange, type ListedObject, type ObjectInfo, type StorageDriver, type StoredObject } from './types';

const READ_CHUNK = 256 * 1024;
/**
 * A big upload starts writing its pages back to disk every this many bytes (a background
 * `fdatasync`, one at a time), so the fsync before the rename finds little left to do instead
 * of flushing the whole file while the client waits.
 */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

/** Streams `body` into the open file through the runtime's fastest bounded writer. */
async function writeStream(fh: FileHandle, path: string, body: ReadableStream<Uint8Array>): Promise<StoredObject> {
  const reader = body.getReader();
  const sink = createFileSink(fh, { path });
  let size = 0;
  let synced = 0;
  let syncing: Promise<void> | null = null;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      const pending = sink.write(value);
      if (pending) await pending;
      if (sink.copies) releaseChunk(value);
      if (!syncing && size - synced >= EARLY_SYNC_BYTES) {
        synced = size;
        // Only a head start: a failure here surfaces in the fsync before the rename.
        syncing = fh.datasync().catch(() => {}).finally(() => (syncing = null));
      }
    }
    const sha256 = await sink.end();
    await syncing;
    return { size, sha256 };
  } catch (err) {
    await syncing?.catch(() => {});
    await sink.abort();
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}

/**
 * Size of the file at `path`, or null when there is no file there: nothing at the path, a
 * directory (a key that is a prefix of others), or a path through a file (a key under another
 * object's key, ENOTDIR).
 */
async function objectInfo(path: string): Promise<ObjectInfo | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size } : null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** Streams `range` of the file at `path` (all of it without one), reading only as the consumer pulls. */
function fileStream(path: string, range?: ByteRange): ReadableStream<Uint8Array> {
  let fh: FileHandle | null = null;
  let pos = range?.start ?? 0;
  const end = range ? range.end + 1 : Infinity;
  const close = async () => {
    const h = fh;
    fh = null;
    await h?.close().catch(() => {});
  };
  // Pull-based: the next read happens only when the consumer asks, so a slow client holds
  // one chunk at most. The file is opened on the first pull, so a stream that is never
  // read (a response dropped unsent) holds no descriptor for the GC to find.
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const want = Math.min(READ_CHUNK, end - pos);
        if (want <= 0) {
          await close();
          return controller.close();
        }
        fh ??= await open(path, 'r');
        const buf = new Uint8Array(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) {
          await close();
          return controller.close();
        }
        pos += bytesRead;
        controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      } catch (err) {
        await close();
        controller.error(err);
      }
    },
    cancel: close,
  }, { highWaterMark: 0 });
}

/**
 * The files under `root` whose relative key starts with `prefix` and that were last written
 * before `before`, one directory open at a time (an explicit stack: no full listing in memory).
 * `.tmp` (put's temp files) and `.tus` (unfinished tus uploads, modules/tus/store.ts) are not
 * objects and are never listed.
 */
async function* walkOlderThan(root: string, prefix: string, before: Date): AsyncGenerator<ListedObject> {
  const start = prefix.slice(0, prefix.lastIndexOf('/') + 1); // the directory part of the prefix
  const stack = [start];
  while (stack.length) {
    const rel = stack.pop() as string;
    let dir;
    try {
      dir = await opendir(join(root, rel));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw err;
    }
    for await (const entry of dir) {
      const key = rel + entry.name;
      if (rel === '' && (entry.name === '.tmp' || entry.name === '.tus')) continue;
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || key.startsWith(prefix)) stack.push(key + '/');
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const s = await stat(join(root, key)).catch(() => null); // gone meanwhile: skipped
        if (s && s.mtime < before) yield { key, lastModified: s.mtime };
      }
    }
  }
}

/**
 * Renames a written file to its key's path. Its folder may be removed between the `mkdir` and the
 * `rename` by a `delete` of the last object beside it (which removes empty folders): made again.
 * ENOENT after the retries: the file to rename is missing.
 */
export async function renameIntoPlace(tmpPath: string, finalPath: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(finalPath), { recursive: true });
    try {
      return await rename(tmpPath, finalPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 5) throw err;
    }
  }
}

export async function createFsStorage(root: string): Promise<StorageDriver> {
  const tmpDir = join(root, '.tmp');
  await mkdir(tmpDir, { recursive: true });
  await sweepOwnedTemp(tmpDir, { atStart: true });
  const base = join(root, '/'); // ends with one '/': the folders under the root start with it, the root does not
  const tusDir = join(root, '.tus');
  /**
   * `dir` and then its parents while they are empty (one folder per account, one per video's
   * stored renditions), never the root, the temp folder or tus's.
   */
  const removeEmptyFolders = async (dir: string): Promise<void> => {
    for (; dir.startsWith(base) && !dir.startsWith(tmpDir) && !dir.startsWith(tusDir); dir = dirname(dir)) {
      if (!(await rmdir(dir).then(() => true, () => false))) return; // not empty, a file or gone: the ones above are not emptied either
    }
  };
  const pathOf = (key: string) => {
    assertValidKey(key);
    return join(root, key);
  };

  return {
    kind: 'fs',

    async put(key, body) {
      const finalPath = pathOf(key);
      const tmpPath = join(tmpDir, ownedTempName(randomString(16)));
      const fh = await open(tmpPath, 'wx');
      let done = false;
      try {
        const stored = await writeStream(fh, tmpPath, body);
        await fh.sync();
        await fh.close();
        done = true;
        await renameIntoPlace(tmpPath, finalPath);
        return stored;
      } catch (err) {
        if (!done) await fh.close().catch(() => {});
        await unlink(tmpPath).catch(() => {});
        throw err;
      }
    },

    async get(key, range?: ByteRange) {
      const path = pathOf(key);
      if (!(await objectInfo(path))) return null;
      return fileStream(path, range);
    },

    // A body Bun sends with sendfile and its Content-Length (platform/file-body.ts); Deno takes
    // the stream of `get` with the length the handler sets.
    async getBody(key, range?: ByteRange) {
      const path = pathOf(key);
      const info = await objectInfo(path);
      if (!info) return null;
      return fileSliceBody(path, range?.start ?? 0, range ? range.end + 1 : info.size) ?? fileStream(path, range);
    },

    async read(key, maxBytes) {
      const path = pathOf(key);
      const info = await objectInfo(path);
      if (!info) return null;
      if (info.size > maxBytes) throw new ObjectTooLargeError(maxBytes);
      // Objects are written once (temp file, then rename), so the size just read still holds.
      return await readFileBytes(path);
    },

    head: (key) => objectInfo(pathOf(key)),
    localPath: (key) => pathOf(key),

    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      await removeEmptyFolders(dirname(path));
    },

    async deletePrefix(prefix) {
      // Keys are path-like, so a prefix ending in `/` is a directory; otherwise match names.
      const dir = prefix.endsWith('/') ? join(root, prefix) : dirname(join(root, prefix));
      const namePrefix = prefix.endsWith('/') ? '' : prefix.slice(prefix.lastIndexOf('/') + 1);
      if (!dir.startsWith(root)) throw new Error('prefix escapes the storage root');
      let entries: string[];
      try {
        entries = await readdir(dir, { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      let count = 0;
      const folders: string[] = [];
      for (const rel of entries) {
        const full = join(dir, rel);
        if (!rel.startsWith(namePrefix) || full.startsWith(tmpDir)) continue;
        const s = await stat(full).catch(() => null);
        if (s?.isFile()) {
          await rm(full, { force: true });
          count++;
        } else if (s?.isDirectory()) folders.push(full);
      }
      // The deepest first: a folder emptied here goes, then its parents once empty.
      for (const folder of folders.sort((a, b) => b.length - a.length)) await removeEmptyFolders(folder);
      await removeEmptyFolders(dir);
      return count;
    },

    listOlderThan: (prefix, before) => walkOlderThan(root, prefix, before),

    sweepAbandoned: (olderThan) => sweepOwnedTemp(tmpDir, { atStart: false, olderThan }),

    async space() {
      const s = await statfs(root);
      // bavail, not bfree: the blocks reserved for root are not ours to fill.
      return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    },

    health: () => access(root, constants.W_OK),
    close: async () => {},
  };
}
