/**
 * S3-compatible storage (AWS, MinIO, R2…) through `@aws-sdk/client-s3`, which runs on Bun and
 * Deno alike. Uploads are streamed as multipart uploads by `@aws-sdk/lib-storage` (bounded
 * memory: part size × queue size); any failure, including the source stream erroring
 * mid-way, aborts the multipart upload so no parts are left billed and invisible.
 */
import {
  DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { collectGarbageNow } from '../platform/memory';
import { createStreamHasher } from '../platform/sha256';
import { assertValidKey, collectCapped, ObjectTooLargeError, type ByteRange, type ObjectInfo, type StorageDriver } from './types';

export interface S3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Optional key prefix inside the bucket (tests share one bucket). */
  prefix?: string;
}

const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/**
 * A full collection after every this many bytes. lib-storage pulls the body only as parts are
 * wanted (no read-ahead), but the body chunks and each concatenated part are external buffers
 * the collector left uncollected for hundreds of MiB, and they outlive the inspector's
 * young-generation collections. `STORAGE=s3 bash bench/upload.sh` measures the RSS growth
 * this leaves (README "Performance").
 */
const GC_EVERY_BYTES = 2 * PART_SIZE;

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

export function createS3Storage(o: S3Options): StorageDriver & { pendingUploads(): Promise<number> } {
  const client = new S3Client({
    region: o.region,
    endpoint: o.endpoint,
    forcePathStyle: o.forcePathStyle,
    credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
  });
  const base = o.prefix ? o.prefix.replace(/\/*$/, '/') : '';
  const keyOf = (key: string) => {
    assertValidKey(key);
    return base + key;
  };
  const Bucket = o.bucket;

  /** One GetObject: the body as a web stream and its announced length, or null when missing. */
  async function getObject(key: string, range?: ByteRange): Promise<{ stream: ReadableStream<Uint8Array>; length: number } | null> {
    try {
      const res = await client.send(
        new GetObjectCommand({ Bucket, Key: keyOf(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      if (!res.Body) return null;
      return { stream: res.Body.transformToWebStream() as ReadableStream<Uint8Array>, length: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  return {
    kind: 's3',

    async put(key, body, opts = {}) {
      let size = 0;
      let sha256 = '';
      // Off-thread for big objects (platform/sha256.ts); the chunk is copied before it goes on.
      // The digest is taken as the stream ends, before lib-storage completes the upload, so a
      // failing hash is just a failing stream: the upload is aborted like any other.
      const hasher = createStreamHasher();
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          async transform(chunk, c) {
            if (Math.floor((size + chunk.byteLength) / GC_EVERY_BYTES) > Math.floor(size / GC_EVERY_BYTES)) collectGarbageNow();
            size += chunk.byteLength;
            const copied = hasher.update(chunk);
            if (copied) await copied;
            c.enqueue(chunk);
          },
          async flush() {
            sha256 = await hasher.digest();
          },
        }),
      );
      const upload = new Upload({
        client,
        params: { Bucket, Key: keyOf(key), Body: counted, ContentType: opts.contentType, ContentLength: opts.size },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        hasher.abort();
        // lib-storage aborts the multipart upload itself when leavePartsOnError is false;
        // abort() again covers a failure before it had recorded the upload id.
        await upload.abort().catch(() => {});
        await body.cancel().catch(() => {});
        throw err;
      }
      return { size, sha256 };
    },

    async read(key, maxBytes) {
      const object = await getObject(key);
      if (!object) return null;
      if (object.length > maxBytes) {
        await object.stream.cancel();
        throw new ObjectTooLargeError(maxBytes);
      }
      return collectCapped(object.stream, maxBytes);
    },

    get: async (key, range?: ByteRange) => (await getObject(key, range))?.stream ?? null,

    async head(key): Promise<ObjectInfo | null> {
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
        return { size: res.ContentLength ?? 0 };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },

    async deletePrefix(prefix) {
      let count = 0;
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: base + prefix, ContinuationToken: token }));
        const keys = (page.Contents ?? []).flatMap((c) => (c.Key ? [{ Key: c.Key }] : []));
        if (keys.length) {
          await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys, Quiet: true } }));
          count += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return count;
    },

    async health() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },

    /** Multipart uploads still open under this driver's prefix (tests assert zero). */
    async pendingUploads() {
      const res = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: base || undefined }));
      return res.Uploads?.length ?? 0;
    },

    close: async () => client.destroy(),
  };
}
