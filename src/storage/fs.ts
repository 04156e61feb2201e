/**
 * Local-disk storage under one root (`DATA_DIR/files`). Writes go to `<root>/.tmp/<random>`
 * on the same filesystem, are fsynced, then renamed into place, so a reader never sees a
 * half-written object and a crash leaves at most a temp file (swept at start-up).
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomString } from '../lib/random';
import { assertValidKey, type ByteRange, type ObjectInfo, type StorageDriver } from './types';

const READ_CHUNK = 256 * 1024;
/** Small chunks are gathered up to this size before a write syscall. */
const WRITE_BATCH = 1024 * 1024;

export async function createFsStorage(root: string): Promise<StorageDriver> {
  const tmpDir = join(root, '.tmp');
  // Anything in .tmp belongs to an upload that died with its process.
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true });
  const pathOf = (key: string) => {
    assertValidKey(key);
    return join(root, key);
  };

  return {
    kind: 'fs',

    async put(key, body) {
      const finalPath = pathOf(key);
      const tmpPath = join(tmpDir, randomString(16));
      const fh = await open(tmpPath, 'wx');
      let size = 0;
      let done = false;
      try {
        const reader = body.getReader();
        let batch: Uint8Array[] = [];
        let batched = 0;
        const flush = async () => {
          if (batched === 0) return;
          const buf = batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch, batched);
          batch = [];
          batched = 0;
          let off = 0;
          while (off < buf.byteLength) off += (await fh.write(buf, off, buf.byteLength - off)).bytesWritten;
        };
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          size += value.byteLength;
          batch.push(value);
          batched += value.byteLength;
          if (batched >= WRITE_BATCH) await flush();
        }
        await flush();
        await fh.sync();
        await fh.close();
        done = true;
        await mkdir(dirname(finalPath), { recursive: true });
        await rename(tmpPath, finalPath);
        return { size };
      } catch (err) {
        if (!done) await fh.close().catch(() => {});
        await unlink(tmpPath).catch(() => {});
        throw err;
      }
    },

    async get(key, range?: ByteRange) {
      const fh = await open(pathOf(key), 'r').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'EISDIR') return null;
        throw err;
      });
      if (!fh) return null;
      let pos = range?.start ?? 0;
      const end = range ? range.end + 1 : Infinity;
      // Pull-based: the next read happens only when the consumer asks, so a slow client
      // holds one chunk at most.
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const want = Math.min(READ_CHUNK, end - pos);
            if (want <= 0) {
              await fh.close();
              return controller.close();
            }
            const buf = new Uint8Array(want);
            const { bytesRead } = await fh.read(buf, 0, want, pos);
            if (bytesRead === 0) {
              await fh.close();
              return controller.close();
            }
            pos += bytesRead;
            controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
          } catch (err) {
            await fh.close().catch(() => {});
            controller.error(err);
          }
        },
        async cancel() {
          await fh.close().catch(() => {});
        },
      }, { highWaterMark: 0 });
    },

    async head(key): Promise<ObjectInfo | null> {
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? { size: s.size } : null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },

    async delete(key) {
      await rm(pathOf(key), { force: true });
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
      for (const rel of entries) {
        const full = join(dir, rel);
        if (!rel.startsWith(namePrefix) || full.startsWith(tmpDir)) continue;
        const s = await stat(full).catch(() => null);
        if (s?.isFile()) {
          await rm(full, { force: true });
          count++;
        }
      }
      return count;
    },

    health: () => access(root, constants.W_OK),
    close: async () => {},
  };
}
