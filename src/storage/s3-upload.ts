/**
 * The S3 driver's uploads: one object from a stream, as a multipart upload of `PART_BYTES` parts
 * (or one `PutObject` when it fits in a part), with the SDK on every runtime.
 *
 * Written here rather than with lib-storage or Bun's native client (both used before): when the
 * size is known (a raw upload's `Content-Length`) each part is sent while its bytes arrive, so
 * the upload does not wait for a full part before sending it and ends right after its last byte.
 * lib-storage concatenates each part into a fresh buffer once it is full, and Bun's client sends a
 * part only once it is full too; both grew the server's RSS past 64 MiB on a fresh process's
 * first 1 GiB (docs/TUNING.md, "Storage"). Here the bytes are copied into one of two pooled part
 * buffers, whose views are what the requests send. Any failure aborts the multipart upload.
 */
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { releaseChunk } from '../platform/memory';
import { createPartQueue, partPool, sendLive, type LiveSend } from './s3-parts';

/**
 * Part size: S3's smallest. 8 MiB parts ran no faster and grew a fresh process's RSS by 81 MiB
 * on its first 1 GiB upload, against 69 MiB with these (docs/TUNING.md, "Storage").
 */
export const PART_BYTES = 5 * 1024 * 1024;
const pool = partPool(PART_BYTES);

export interface PutTarget {
  client: S3Client;
  Bucket: string;
  Key: string;
  ContentType?: string;
}

/**
 * Uploads `body` to `Key`; `size`, when given, must be its exact length (a shorter or longer body
 * fails the upload). Each chunk is released (platform/memory.ts) once copied: callers pass a body
 * whose chunks no one else reads afterwards.
 */
export async function putObjectStream(t: PutTarget, body: ReadableStream<Uint8Array>, size: number | undefined): Promise<void> {
  const { client, Bucket, Key, ContentType } = t;
  const queue = createPartQueue(pool);
  const parts: { PartNumber: number; ETag: string }[] = [];
  let uploadId = null as Promise<string> | null; // a cast: assigned in `multipart`, so not to be narrowed to null here
  let buffer = pool.take();
  let filled = 0;
  let bytes = 0;
  let live: LiveSend | null = null;

  // Created once, by whichever part needs it first.
  const multipart = (): Promise<string> =>
    (uploadId ??= client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType })).then((res) => res.UploadId as string));
  const putWhole = (Body: Uint8Array, ContentLength: number) => client.send(new PutObjectCommand({ Bucket, Key, ContentType, Body, ContentLength }));
  const sendPart = (Body: Uint8Array | Readable, ContentLength: number, abortSignal?: AbortSignal): Promise<void> => {
    // The number is taken now, the tag filled in once S3 answers.
    const entry = { PartNumber: parts.length + 1, ETag: '' };
    parts.push(entry);
    return multipart()
      .then((UploadId) => client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: entry.PartNumber, Body, ContentLength }), { abortSignal }))
      .then((res) => void (entry.ETag = res.ETag as string));
  };
  /** The next part, streamed while it fills when its size is known. */
  const startLive = (): LiveSend | null => {
    if (size === undefined || size - bytes <= 0) return null;
    // An object within one part is put whole once its body has ended: streamed, it would be
    // stored before a body longer than its size could be refused.
    if (bytes === 0 && size <= PART_BYTES) return null;
    const partSize = Math.min(PART_BYTES, size - bytes);
    return sendLive(buffer, partSize, (Body, signal) => sendPart(Body, partSize, signal));
  };

  const reader = body.getReader();
  try {
    // With a known size over one part, the multipart upload starts before the first byte is read.
    if (size !== undefined && size > PART_BYTES) await multipart();
    live = startLive();
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      const chunk = next.value;
      if (size !== undefined && bytes + chunk.byteLength > size) throw new Error(`the body is longer than its ${size} bytes`);
      let at = 0;
      while (at < chunk.byteLength) {
        const room = (live?.size ?? PART_BYTES) - filled;
        const take = Math.min(chunk.byteLength - at, room);
        buffer.set(chunk.subarray(at, at + take), filled);
        filled += take;
        live?.advance(filled);
        at += take;
        bytes += take;
        if (filled === (live?.size ?? PART_BYTES)) {
          let sent: Promise<unknown>;
          if (live) {
            sent = live.done;
          } else {
            sent = sendPart(buffer, PART_BYTES);
          }
          queue.add(sent.then(() => {}), buffer);
          buffer = await queue.nextBuffer();
          filled = 0;
          queue.throwIfFailed();
          live = startLive();
        }
      }
      releaseChunk(chunk); // copied into the part buffer
    }
    if (size !== undefined && bytes !== size) throw new Error(`the body ended after ${bytes} of its ${size} bytes`);
    // What is left is the whole object when it never filled a part, or else the last part
    // (of an unknown size: a known one sent all its parts while they filled).
    let last: Promise<unknown> | null = null;
    if (parts.length === 0) last = putWhole(buffer.subarray(0, filled), filled);
    else if (filled > 0) last = sendPart(buffer.subarray(0, filled), filled);
    await queue.settle(last);
    if (uploadId !== null) {
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: await uploadId, MultipartUpload: { Parts: parts } }));
    }
  } catch (err) {
    if (live && !live.ended) live.drop();
    // Settled before the buffers are reused: no request may still be reading one.
    await Promise.allSettled([live?.done, queue.settle()]);
    const id = await uploadId?.catch(() => null);
    // Not waited for: against a storage that stopped answering it took 3 × S3_TIMEOUT_MS more
    // before the client heard (91–153 s in all); one that fails is removed by the abandoned-upload sweep.
    if (id) void client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: id })).catch(() => {});
    await reader.cancel(err).catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
    pool.give(buffer);
    queue.release();
  }
}
