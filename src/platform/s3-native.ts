/**
 * Bun's native S3 client as the S3 driver's uploader (storage/s3.ts), so that the driver itself
 * stays runtime-neutral.
 */
import { isBun } from './runtime';

export interface NativeS3Options {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  virtualHostedStyle: boolean;
}

export interface NativeS3Uploader {
  /** Streams `body` to `key` as a multipart upload; on any failure the upload is aborted. */
  put(key: string, body: ReadableStream<Uint8Array>, contentType: string | undefined): Promise<void>;
}

/**
 * Bun's client: the smallest part S3 allows, one in flight. Bigger parts or more in flight ran
 * faster but grew the server's RSS well past what an upload should take (docs/TUNING.md,
 * "Measurements behind code choices").
 */
export const NATIVE_PART_SIZE = 5 * 1024 * 1024;
export const NATIVE_QUEUE_SIZE = 1;
/**
 * Bun's client uploads `body` from native code: it buffers and sends the parts itself, so no
 * concatenated part exists as a JS buffer (lib-storage's do). `S3File.write(stream)` rather than
 * `writer()`: when the stream errors, `write` aborts the multipart upload, whereas ending or
 * closing a writer after a failure completes the object with the bytes written so far
 * (both tried against MinIO). Null where Bun is absent (storage/s3.ts then uploads with lib-storage).
 */
export function createNativeS3Uploader(options: NativeS3Options): NativeS3Uploader | null {
  if (!isBun) return null;
  const client = new Bun.S3Client(options);
  return {
    async put(key, body, contentType) {
      // Wrapped in a Response, the one streaming body `write` is typed to take.
      await client.file(key).write(new Response(body), { partSize: NATIVE_PART_SIZE, queueSize: NATIVE_QUEUE_SIZE, type: contentType });
    },
  };
}

