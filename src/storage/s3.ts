/**
 * S3-compatible storage (AWS, MinIO, R2…) through `@aws-sdk/client-s3`, which runs on Bun and
 * Deno alike. Uploads are streamed as multipart uploads with bounded memory (s3-upload.ts); any
 * failure, including the source stream erroring mid-way, aborts the multipart upload so no parts
 * are left billed and invisible (the contract test checks that MinIO holds none).
 */
import {
  AbortMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { collectGarbageNow } from '../platform/memory';
import { createStreamHasher } from '../platform/sha256';
import { createS3Client } from './s3-parts';
import { describeS3Problem, S3SetupError } from './s3-problem';
import { putObjectStream } from './s3-upload';
import { assertValidKey, collectCapped, ObjectTooLargeError, type ByteRange, type ListedObject, type ObjectInfo, type StorageDriver } from './types';

export interface S3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  timeoutMs?: number;
  /** Optional key prefix inside the bucket (tests share one bucket). */
  prefix?: string;
}

/**
 * A full collection every this many bytes uploaded. The body's chunks are freed as they are
 * copied into the part buffers, but each request leaves some garbage the young-generation
 * collections miss, so without it the RSS rose from upload to upload; more often cost too much
 * throughput (docs/TUNING.md, "Measurements behind code choices").
 */
const GC_EVERY_BYTES = 128 * 1024 * 1024;

/** A missing object; not a missing bucket (NoSuchBucket, also a 404), which is the storage's fault. */
const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name !== 'NoSuchBucket' && (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404);
};

export function createS3Storage(o: S3Options): StorageDriver & { pendingUploads(): Promise<number> } {
  const client = createS3Client(o);
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
      // The digest is taken as the stream ends, before the upload completes, so a failing hash
      // is just a failing stream: the upload is aborted like any other.
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
      try {
        await putObjectStream({ client, Bucket, Key: keyOf(key), ContentType: opts.contentType }, counted, opts.size);
      } catch (err) {
        hasher.abort();
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
        if (!isNotFound(err)) throw err;
        // A HEAD's 404 has no body to say whether the key or the bucket is missing: the bucket
        // is asked (a missing object is rare: heads follow rows).
        await client.send(new HeadBucketCommand({ Bucket })).catch((bucketErr: unknown) => {
          throw isNotFound(bucketErr) ? Object.assign(new Error(`The bucket ${Bucket} does not exist`), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }) : bucketErr;
        });
        return null;
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

    async *listOlderThan(prefix, before): AsyncGenerator<ListedObject> {
      let token: string | undefined;
      do {
        // One page (up to 1000 keys) at a time; S3 dates an object by its last write.
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: base + prefix, ContinuationToken: token }));
        for (const c of page.Contents ?? []) {
          if (c.Key && c.LastModified && c.LastModified < before) yield { key: c.Key.slice(base.length), lastModified: c.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async health() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (err) {
        throw new S3SetupError(describeS3Problem(err, Bucket, o.endpoint), err);
      }
    },

    /**
     * A process killed mid-upload cannot abort its multipart upload, and S3 keeps (and bills)
     * its parts until someone does (issue #17.5). Aborts those under this driver's prefix begun
     * before `olderThan`; one that finished or was aborted meanwhile (NoSuchUpload) is skipped.
     */
    async sweepAbandoned(olderThan) {
      let aborted = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        // No `Prefix` in the request: MinIO lists uploads only for a prefix that is a whole key
        // (it answered none for `<prefix>/`), so the prefix is matched here.
        const page = await client.send(new ListMultipartUploadsCommand({ Bucket, KeyMarker, UploadIdMarker }));
        for (const u of page.Uploads ?? []) {
          if (!u.Key?.startsWith(base) || !u.UploadId || !u.Initiated || u.Initiated >= olderThan) continue;
          try {
            await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
            aborted++;
          } catch (err) {
            if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
          }
        }
        [KeyMarker, UploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined];
      } while (KeyMarker);
      return aborted;
    },

    space: async () => null,

    /** Multipart uploads still open under this driver's prefix (tests assert zero). */
    async pendingUploads() {
      const res = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: base || undefined }));
      return res.Uploads?.length ?? 0;
    },

    close: async () => client.destroy(),
  };
}
