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
 *
 * A PATCH's bytes become part of the upload only when it calls `accept()` (after the checksum, if
 * any, matched); `reject()` forgets them, so the offset stays where it was.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../../config';
import { createChunkSink, type ChunkSink } from '../../platform/file-sink';
import { collectGarbageNow, releaseChunk } from '../../platform/memory';
import type { TusPart } from './table';

/** S3 part size: the bytes a PATCH holds in memory at most (besides the runtime's own buffers). */
const PART_BYTES = 8 * 1024 * 1024;
/**
 * S3: part buffers kept for the next PATCH. Fresh 8 MiB buffers per PATCH were external garbage
 * that only full collections freed (docs/TUNING.md, "Measurements behind code choices").
 */
const partPool: Uint8Array[] = [];
const PART_POOL_MAX = 4;
const takePart = (): Uint8Array => partPool.pop() ?? new Uint8Array(PART_BYTES);
const givePart = (b: Uint8Array): void => void (partPool.length < PART_POOL_MAX && partPool.push(b));
/**
 * A full collection every this many bytes received by this process. The request bodies' chunks
 * (and on S3 the SDK's copies of each part) are external buffers that young collections leave
 * behind, and the server's RSS grows by far more than a PATCH holds. Run while the PATCH waits
 * for its last blocks to be written and hashed (or its last part sent), so that the upload
 * waits for it less. 128 MiB: about the growth of 64 MiB for half the collections
 * (docs/TUNING.md, "Measurements behind code choices").
 */
const GC_EVERY_BYTES = 128 * 1024 * 1024;
let bytesSinceGc = 0;
function collectWhileWaiting(bytes: number): void {
  bytesSinceGc += Math.max(0, bytes);
  if (bytesSinceGc < GC_EVERY_BYTES) return;
  bytesSinceGc = 0;
  collectGarbageNow();
}
/**
 * fs: a PATCH starts writing its pages back every this many bytes (a background `fdatasync`,
 * one at a time), so the fsync before its offset is saved finds little left to do.
 */
const EARLY_SYNC_BYTES = 4 * 1024 * 1024;

/** The storage side of an upload, as the row keeps it. */
export interface StoreState {
  id: string;
  storageKey: string;
  offset: number;
  s3UploadId: string | null;
  parts: TusPart[];
  tailSize: number;
}

export interface PendingChunk {
  /** Bytes of this PATCH written (-1: storing failed, none can be trusted). */
  readonly bytes: number;
  /**
   * With `hash`: the hex SHA-256 of the upload through this PATCH, from the running hash this
   * process kept (platform/resumable-sha256.ts); null when it did not have the bytes before.
   */
  readonly sha256: string | null;
  /** Makes them part of the upload; returns the new storage state. */
  accept(complete: boolean): Promise<Pick<StoreState, 'parts' | 'tailSize'>>;
  /** Forgets them (checksum mismatch, refused content). */
  reject(): Promise<void>;
}

export interface TusStore {
  /** Starts an upload's storage (S3: the multipart upload). */
  begin(storageKey: string): Promise<{ s3UploadId: string | null }>;
  /**
   * Writes `body` after the upload's current bytes, chunk by chunk, hashing them on (`hash`: the
   * upload's running SHA-256 was not lost to another process). Resolves once the stream ends
   * or fails (the failure is in `error`: what was received up to it can still be accepted).
   * `accept(true)`: these bytes complete the upload (S3 then sends the rest as the last part).
   */
  write(s: StoreState, body: ReadableStream<Uint8Array>, hash: boolean): Promise<PendingChunk & { error?: unknown }>;
  /** Makes the complete upload the object at `storageKey`. */
  complete(s: StoreState): Promise<void>;
  /** Removes every byte of an unfinished upload (termination, expiry, refusal). Idempotent. */
  discard(s: StoreState): Promise<void>;
  close(): Promise<void>;
}

/** The chunks of a stream (a reader loop: not every runtime's types make streams async-iterable). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export function createTusStore(config: Config): TusStore {
  return config.storageDriver === 's3' ? createS3TusStore(config) : createFsTusStore(join(config.dataDir, 'files'));
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
      // Not 'a' (O_APPEND): Linux then appends whatever position a write names.
      let fh: FileHandle | null = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
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
      await mkdir(dirname(finalPath), { recursive: true });
      await rename(partPath(s.id), finalPath);
    },
    async discard(s) {
      await rm(partPath(s.id), { force: true });
    },
    close: async () => {},
  };
}

function createS3TusStore(config: Config): TusStore {
  const o = config.s3;
  const Bucket = o.bucket as string;
  const client = new S3Client({
    region: o.region,
    endpoint: o.endpoint,
    forcePathStyle: o.forcePathStyle,
    credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
  });
  const tailKey = (id: string) => `.tus/${id}.tail`;

  async function readTail(s: StoreState, into: Uint8Array): Promise<number> {
    if (s.tailSize === 0) return 0;
    const res = await client.send(new GetObjectCommand({ Bucket, Key: tailKey(s.id) }));
    const bytes = await res.Body!.transformToByteArray();
    if (bytes.byteLength !== s.tailSize) throw new Error(`tus tail of ${s.id} holds ${bytes.byteLength} bytes, expected ${s.tailSize}`);
    into.set(bytes, 0);
    return bytes.byteLength;
  }

  return {
    async begin(storageKey) {
      const res = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: storageKey }));
      return { s3UploadId: res.UploadId ?? null };
    },

    async write(s, body, hash) {
      // Two part buffers: one fills from the request while the other is being sent.
      let buffer = takePart();
      let spare: Uint8Array | null = null;
      const release = () => {
        givePart(buffer);
        if (spare) givePart(spare);
        spare = null;
      };
      const parts: TusPart[] = [...s.parts];
      let filled = 0;
      let bytes = 0;
      let error: unknown;
      let sha256: string | null = null;
      let sending: Promise<void> | null = null;
      const sendPart = async (data: Uint8Array) => {
        const n = parts.length + 1;
        const res = await client.send(new UploadPartCommand({
          Bucket, Key: s.storageKey, UploadId: s.s3UploadId as string, PartNumber: n, Body: data, ContentLength: data.byteLength,
        }));
        parts.push({ n, etag: res.ETag as string });
      };
      // Hashed off the request thread, from the upload's running hash (platform/file-sink.ts).
      const sink = createChunkSink({ hashKey: hash ? s.id : null, base: s.offset });
      try {
        filled = await readTail(s, buffer);
        for await (const chunk of chunksOf(body)) {
          const copied = sink.write(chunk);
          if (copied) await copied;
          let at = 0;
          while (at < chunk.byteLength) {
            const take = Math.min(chunk.byteLength - at, PART_BYTES - filled);
            buffer.set(chunk.subarray(at, at + take), filled);
            filled += take;
            at += take;
            if (filled === PART_BYTES) {
              await sending; // one part in flight at a time, so parts keep their order
              const full = buffer;
              sending = sendPart(full).then(() => void (spare = full));
              sending.catch(() => {}); // handled: awaited before the next part and at the end
              buffer = spare ?? takePart();
              spare = null;
              filled = 0;
            }
          }
          bytes += chunk.byteLength;
          releaseChunk(chunk); // copied into the hasher's blocks and the part buffer
        }
      } catch (err) {
        error = err;
      }
      try {
        const ending = sink.end();
        ending.catch(() => {}); // handled: awaited below
        collectWhileWaiting(bytes);
        await sending;
        sha256 = await ending;
      } catch (err) {
        // A part that did not reach S3 (or the hash failed): none of this request's bytes can be trusted.
        error = err;
        bytes = -1;
        await sink.abort().catch(() => {});
      }
      return {
        error,
        bytes,
        sha256,
        async accept(complete) {
          try {
            if (complete) {
              // The last part may be small; an empty upload still needs one part.
              if (filled > 0 || parts.length === 0) await sendPart(buffer.subarray(0, filled));
              return { parts, tailSize: 0 };
            }
            if (filled > 0) await client.send(new PutObjectCommand({ Bucket, Key: tailKey(s.id), Body: buffer.subarray(0, filled), ContentLength: filled }));
            return { parts, tailSize: filled };
          } finally {
            release();
          }
        },
        // Parts sent by this PATCH are overwritten by the next (same numbers) or aborted with the upload.
        reject: async () => release(),
      };
    },

    async complete(s) {
      await client.send(new CompleteMultipartUploadCommand({
        Bucket, Key: s.storageKey, UploadId: s.s3UploadId as string,
        MultipartUpload: { Parts: s.parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
      }));
      await client.send(new DeleteObjectCommand({ Bucket, Key: tailKey(s.id) })).catch(() => {});
    },

    async discard(s) {
      if (s.s3UploadId) {
        try {
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: s.storageKey, UploadId: s.s3UploadId }));
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
        }
      }
      await client.send(new DeleteObjectCommand({ Bucket, Key: tailKey(s.id) }));
    },

    close: async () => client.destroy(),
  };
}
