/**
 * Where the bytes of a tus upload go while it is incomplete, for each storage driver. Neither
 * buffers the whole file anywhere, and neither copies it at the end:
 *
 * - fs: one file under `<DATA_DIR>/files/.tus/` written at each PATCH's offset, renamed into the
 *   object's place when complete (same file system, no copy). Not under `.tmp/`: the temp sweep
 *   removes files of dead processes, and a tus upload outlives its process by design.
 * - s3: an S3 multipart upload on the object's final key, created with the upload. A PATCH
 *   sends its bytes as parts of `PART_BYTES` (one part in memory at a time); what is left below a
 *   part when the PATCH ends is kept as a small object of its own (the "tail", S3 parts but the
 *   last must be ≥ 5 MiB) and becomes the head of the next part. Any process can continue it.
 *   That store is `store-s3.ts`, loaded only for S3.
 *
 * A PATCH's bytes become part of the upload only when it calls `accept()` (after the checksum, if
 * any, matched); `reject()` forgets them, so the offset stays where it was.
 */
import { constants } from 'node:fs';
import { mkdir, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config';
import { gone } from '../../errors';
import { createChunkSink, type ChunkSink } from '../../platform/file-sink';
import { releaseChunk } from '../../platform/memory';
import { renameIntoPlace } from '../../storage/fs';
import { chunksOf, collectWhileWaiting, type StoreState, type TusStore } from './store-shared';

export { chunksOf, type PendingChunk, type StoreState, type TusStore } from './store-shared';

/**
 * fs: a PATCH starts writing its pages back every this many bytes (a background `fdatasync`,
 * one at a time), so the fsync before its offset is saved finds little left to do.
 */
const EARLY_SYNC_BYTES = 4 * 1024 * 1024;

export async function createTusStore(config: Config): Promise<TusStore> {
  if (config.storageDriver !== 's3') return createFsTusStore(join(config.dataDir, 'files'));
  // Its own module: the AWS SDK loads only for S3 (on the fs driver it would only add to start-up).
  const { createS3TusStore } = await import('./store-s3');
  return createS3TusStore(config);
}

function createFsTusStore(root: string): TusStore {
  const dir = join(root, '.tus');
  const partPath = (id: string) => join(dir, id);
  return {
    async begin() {
      await mkdir(dir, { recursive: true });
      return { s3UploadId: null };
    },
    async write(s, body, hash) {
      const path = partPath(s.id);
      // Not 'a' (O_APPEND): Linux then appends whatever position a write names. Created by the
      // first byte only: a part gone later (made the object) must never come back as zeros.
      let fh: FileHandle | null = await open(path, constants.O_RDWR | (s.offset === 0 ? constants.O_CREAT : 0), 0o644).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw gone(`This upload's ${s.offset} stored bytes are missing; start a new upload.`);
      });
      let bytes = 0;
      let error: unknown;
      let sha256: string | null = null;
      let synced = 0;
      let syncing: Promise<void> | null = null;
      let sink: ChunkSink | null = null;
      try {
        // Bytes past the stored offset (a PATCH whose process died before saving it) are not the upload's.
        await fh.truncate(s.offset);
        // Written and hashed off the request thread, as a raw upload is (platform/file-sink.ts).
        sink = createChunkSink({ hashKey: hash ? s.id : null, base: s.offset, file: { fh, path } });
        try {
          for await (const chunk of chunksOf(body)) {
            const copied = sink.write(chunk);
            if (copied) await copied;
            bytes += chunk.byteLength;
            releaseChunk(chunk); // written or copied into the sink's blocks: no one reads it again
            if (!syncing && bytes - synced >= EARLY_SYNC_BYTES) {
              synced = bytes;
              // A head start for the fsync `accept` ends with; its failure surfaces there.
              const h = fh;
              syncing = h.datasync().catch(() => {}).finally(() => (syncing = null));
            }
          }
        } catch (err) {
          error = err; // what arrived before a failure counts too
        }
        const ending = sink.end();
        collectWhileWaiting(bytes);
        sha256 = await ending;
      } catch (err) {
        // The file could not be written: none of this request's bytes can be trusted to be there.
        error = err;
        bytes = -1;
        await sink?.abort().catch(() => {});
      }
      await syncing;
      const closeFile = async () => {
        const h = fh;
        fh = null;
        await h?.close();
      };
      return {
        error,
        bytes,
        sha256,
        async accept() {
          // The offset is saved (and acknowledged) after this: every byte it counts is on disk.
          await fh?.datasync();
          await closeFile();
          return { parts: [], tailSize: 0 };
        },
        async reject() {
          await fh?.truncate(s.offset);
          await closeFile();
        },
      };
    },
    async complete(s) {
      const finalPath = join(root, s.storageKey);
      try {
        await renameIntoPlace(partPath(s.id), finalPath);
      } catch (err) {
        // Made the object already (by a request that died before committing the file).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if ((await stat(finalPath).catch(() => null))?.size !== s.offset) throw gone(`This upload's ${s.offset} stored bytes are missing; start a new upload.`);
      }
    },
    async discard(s) {
      await rm(partPath(s.id), { force: true });
    },
    close: async () => {},
  };
}
