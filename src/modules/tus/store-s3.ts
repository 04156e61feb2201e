/**
 * The S3 side of tus uploads (see store.ts), loaded only for `STORAGE_DRIVER=s3`: an S3 multipart upload on the object's final key,
 * parts of `PART_BYTES`, and what is left below a part at a PATCH's end kept as a "tail" object.
 * When the PATCH's `Content-Length` tells how big a part (or the tail) will be, it is sent while
 * its bytes arrive, so that the PATCH does not end by waiting for its last part to reach S3; the
 * bytes are also kept in the part buffer, which becomes the tail if the body ends early.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Config } from '../../config';
import { gone, storageUnavailable } from '../../errors';
import { createChunkSink } from '../../platform/file-sink';
import { releaseChunk } from '../../platform/memory';
import { createPartQueue, createS3Client, partPool, sendLive, type LiveSend } from '../../storage/s3-parts';
import { chunksOf, collectWhileWaiting, type StoreState, type TusStore } from './store-shared';
import type { TusPart } from './table';

/** S3 part size. Fixed: an unfinished upload's stored tail is below it. */
const PART_BYTES = 8 * 1024 * 1024;
const pool = partPool(PART_BYTES);

export function createS3TusStore(config: Config): TusStore {
  const o = config.s3;
  const Bucket = o.bucket as string;
  const client = createS3Client(o);
  const tailKey = (id: string) => `.tus/${id}.tail`;

  async function readTail(s: StoreState, into: Uint8Array): Promise<number> {
    if (s.tailSize === 0) return 0;
    // Only the stored tail's bytes: a rejected PATCH may have sent a longer one (it starts with these).
    const res = await client.send(new GetObjectCommand({ Bucket, Key: tailKey(s.id), Range: `bytes=0-${s.tailSize - 1}` }));
    const bytes = await res.Body!.transformToByteArray();
    if (bytes.byteLength !== s.tailSize) throw new Error(`tus tail of ${s.id} holds ${bytes.byteLength} bytes, expected ${s.tailSize}`);
    into.set(bytes, 0);
    return bytes.byteLength;
  }

  /** Whether the upload's object is there, whole. */
  async function isWhole(s: StoreState): Promise<boolean> {
    const head = await client.send(new HeadObjectCommand({ Bucket, Key: s.storageKey })).catch((err: unknown) => {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
      throw err; // the storage down meanwhile: a 503, the upload kept
    });
    return head?.ContentLength === s.offset;
  }

  /** Whether the multipart upload still holds every acknowledged part, each with its ETag. */
  async function partsHeld(s: StoreState): Promise<boolean> {
    const held = new Map<number, string>();
    let PartNumberMarker: string | undefined;
    try {
      do {
        const page = await client.send(new ListPartsCommand({ Bucket, Key: s.storageKey, UploadId: s.s3UploadId as string, PartNumberMarker }));
        for (const p of page.Parts ?? []) if (p.PartNumber && p.ETag) held.set(p.PartNumber, p.ETag);
        PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (PartNumberMarker);
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchUpload') return false;
      throw err;
    }
    return s.parts.every((p) => held.get(p.n) === p.etag);
  }

  return {
    async begin(storageKey) {
      const res = await client.send(new CreateMultipartUploadCommand({ Bucket, Key: storageKey }));
      return { s3UploadId: res.UploadId ?? null };
    },

    async write(s, body, hash, expect) {
      let buffer = pool.take();
      const parts: TusPart[] = [...s.parts];
      let filled = 0;
      let bytes = 0;
      let error: unknown;
      let sha256: string | null = null;
      /** Parts on their way (the one before the one filling). */
      const queue = createPartQueue(pool);
      const uploadPart = async (n: number, Body: Uint8Array | Readable, ContentLength: number, abortSignal?: AbortSignal) => {
        const res = await client.send(new UploadPartCommand({
          Bucket, Key: s.storageKey, UploadId: s.s3UploadId as string, PartNumber: n, Body, ContentLength,
        }), { abortSignal });
        return { n, etag: res.ETag as string };
      };
      /**
       * The part (or tail) filling now, already on its way to S3 when this PATCH's
       * `Content-Length` says how big it will be, so that the PATCH does not end by waiting for it.
       */
      let live: LiveSend | null = null;
      /** The upload's last part, sent as it arrived; a part only once `accept(true)`. */
      let lastPart: Promise<TusPart> | null = null;
      let tailSent: Promise<void> | null = null;
      const startLive = (): LiveSend | null => {
        const rest = expect ? expect.bytes - bytes : 0;
        if (!expect || rest <= 0) return null;
        const total = filled + rest;
        const size = Math.min(total, PART_BYTES);
        let started: LiveSend;
        if (size === PART_BYTES || expect.completes) {
          const n = parts.length + 1;
          started = sendLive(buffer, size, (stream, signal) => uploadPart(n, stream, size, signal));
          if (size < PART_BYTES) lastPart = started.done as Promise<TusPart>;
        } else {
          started = sendLive(buffer, size, (Body, abortSignal) => client.send(new PutObjectCommand({ Bucket, Key: tailKey(s.id), Body, ContentLength: size }), { abortSignal }));
          tailSent = started.done.then(() => {});
          // Awaited by `queue.settle`, or dropped with a body that ended early: a rejection left
          // unhandled then (the request aborted, or S3 gone) took the whole process down.
          tailSent.catch(() => {});
        }
        started.advance(filled);
        return started;
      };
      // Hashed off the request thread, from the upload's running hash (platform/file-sink.ts).
      const sink = createChunkSink({ hashKey: hash ? s.id : null, base: s.offset });
      try {
        filled = await readTail(s, buffer);
        live = startLive();
        for await (const chunk of chunksOf(body)) {
          const copied = sink.write(chunk);
          if (copied) await copied;
          let at = 0;
          while (at < chunk.byteLength) {
            const take = Math.min(chunk.byteLength - at, PART_BYTES - filled);
            buffer.set(chunk.subarray(at, at + take), filled);
            filled += take;
            live?.advance(filled);
            at += take;
            bytes += take;
            if (filled === PART_BYTES) {
              const full = buffer;
              const part = live ? (live.done as Promise<TusPart>) : uploadPart(parts.length + 1, full, PART_BYTES);
              // Its number is taken now; its tag is filled in once S3 answers.
              const entry: TusPart = { n: parts.length + 1, etag: '' };
              parts.push(entry);
              queue.add(part.then((p) => void (entry.etag = p.etag)), full);
              buffer = await queue.nextBuffer();
              filled = 0;
              queue.throwIfFailed();
              live = startLive();
            }
          }
          releaseChunk(chunk); // copied into the hasher's blocks and the part buffer
        }
      } catch (err) {
        error = err;
      }
      // A body that ended early leaves its part unsent; its bytes stay in `buffer` (the tail).
      if (live && !live.ended) {
        live.drop();
        await live.done.catch(() => {}); // settled before its buffer is reused
        lastPart = null;
        tailSent = null;
      }
      try {
        const ending = sink.end();
        ending.catch(() => {}); // handled: awaited below
        collectWhileWaiting(bytes);
        // Every request settled before any buffer is reused: none may still be reading one.
        await queue.settle(lastPart, tailSent);
        sha256 = await ending;
      } catch (err) {
        // A part that did not reach S3 (or the hash failed): none of this request's bytes can be trusted.
        error = err;
        bytes = -1;
        await sink.abort().catch(() => {});
      }
      const release = () => {
        pool.give(buffer);
        queue.release();
      };
      return {
        error,
        bytes,
        sha256,
        async accept(complete) {
          try {
            if (complete) {
              // The last part may be small; an empty upload still needs one part.
              if (lastPart) parts.push(await lastPart);
              else if (filled > 0 || parts.length === 0) parts.push(await uploadPart(parts.length + 1, buffer.subarray(0, filled), filled));
              return { parts, tailSize: 0 };
            }
            if (filled > 0 && !tailSent) await client.send(new PutObjectCommand({ Bucket, Key: tailKey(s.id), Body: buffer.subarray(0, filled), ContentLength: filled }));
            return { parts, tailSize: filled };
          } finally {
            release();
          }
        },
        // Parts sent by this PATCH are overwritten by the next (same numbers) or aborted with the
        // upload; a tail it sent holds the stored tail as its first bytes (`readTail` reads those).
        reject: async () => release(),
      };
    },

    async complete(s) {
      try {
        await client.send(new CompleteMultipartUploadCommand({
          Bucket, Key: s.storageKey, UploadId: s.s3UploadId as string,
          MultipartUpload: { Parts: s.parts.map((p) => ({ PartNumber: p.n, ETag: p.etag })) },
        }));
      } catch (err) {
        // NoSuchUpload: completed already (by a request that died before committing the file),
        // or aborted. InvalidPart: a part is not the one acknowledged (seen with MinIO after a
        // Complete that stalled), or an earlier Complete is still assembling them.
        const name = (err as { name?: string }).name;
        if (name !== 'NoSuchUpload' && name !== 'InvalidPart') throw err;
        if (!(await isWhole(s))) {
          // Every part still the acknowledged one: not lost; asked again later, the upload kept.
          if (name === 'InvalidPart' && (await partsHeld(s))) throw storageUnavailable(err);
          if (!(await isWhole(s))) throw gone(`This upload's ${s.offset} stored bytes are missing; start a new upload.`);
        }
      }
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
