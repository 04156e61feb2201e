/**
 * The S3 side of tus uploads (see store.ts), loaded only for `STORAGE_DRIVER=s3`: an S3 multipart upload on the object's final key,
 * parts of `PART_BYTES`, and what is left below a part at a PATCH's end kept as a "tail" object.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Config } from '../../config';
import { createChunkSink } from '../../platform/file-sink';
import { releaseChunk } from '../../platform/memory';
import { chunksOf, collectWhileWaiting, type StoreState, type TusStore } from './store-shared';
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

export function createS3TusStore(config: Config): TusStore {
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
