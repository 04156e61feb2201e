/**
 * Where file bytes live. Every driver speaks web streams so the upload and delivery paths are
 * the same for disk and S3. Contract (checked by `storage.contract.test.ts` for every driver):
 *
 * - `put` consumes the whole stream; the object becomes visible only when it is complete. It
 *   reports the size and SHA-256 of what it stored (the driver sees every byte anyway, and
 *   hashing beside the write lets the fs driver feed one copy of each block to both).
 *   If the stream errors (limit crossed, client gone) or storage fails, `put` rejects and
 *   nothing is left behind: no temp file, no S3 multipart upload.
 * - `get` returns null for a missing key; with a range it streams exactly `start..end`.
 * - `read` returns the whole object in memory (null when missing) and refuses one larger than
 *   its cap with `ObjectTooLargeError`, never holding more than the cap.
 * - `delete` and `deletePrefix` are idempotent (deleting nothing is not an error).
 * - `listOlderThan` yields stored objects only (never a driver's temp files or unfinished uploads).
 */
export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface PutOptions {
  /** Exact length when known (raw uploads with Content-Length); drivers may use it to plan. */
  size?: number;
  contentType?: string;
}

export interface ObjectInfo {
  size: number;
}

/** One object of a listing: its key and when it was last written. */
export interface ListedObject {
  key: string;
  lastModified: Date;
}

/** What `put` stored. */
export interface StoredObject extends ObjectInfo {
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
}

export interface StorageDriver {
  readonly kind: 'fs' | 's3';
  /** Stores the stream under `key`, returning the byte count and digest of what was written. */
  put(key: string, body: ReadableStream<Uint8Array>, opts?: PutOptions): Promise<StoredObject>;
  /** The object's bytes (or a range of them), or null when missing. */
  get(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /**
   * Optional: the object's bytes (or a range) as a response body whose length the HTTP server
   * knows without reading it (null when missing). The fs driver hands Bun the file itself, sent
   * with sendfile and a `Content-Length`. Delivery uses it when present, else `get`.
   */
  getBody?(key: string, range?: ByteRange): Promise<Blob | ReadableStream<Uint8Array> | null>;
  /**
   * The whole object in one buffer, for the few readers that need all of it at once (a render's
   * source, metadata analysis): on local disk one read of the file rather than a stream of
   * 256 KiB reads collected again, on S3 one GET refused early by its length (`bun
   * bench/micro.ts` part 6 times both on disk; `bench/transform.sh` measures cold renders).
   */
  read(key: string, maxBytes: number): Promise<Uint8Array | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Optional: the object's path on local disk, for programs that must seek in it (ffmpeg on MP4). */
  localPath?(key: string): string;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Every object whose key starts with `prefix` ('' for all) last written before `before`, a
   * page at a time (disk: one directory, S3: one ListObjectsV2 page of 1000), so a sweep over
   * millions of objects holds only a page. Order is unspecified; deleting what was yielded
   * while iterating is allowed.
   */
  listOlderThan(prefix: string, before: Date): AsyncIterable<ListedObject>;
  /**
   * Removes what uploads cut short by a crash left behind, when begun before `olderThan`: open
   * S3 multipart uploads under the driver's prefix; on disk, temp files no live process of this
   * host owns (the fs driver also removes those of dead processes of this host at once, whatever
   * their age). Never touches an upload another live process is writing. Returns how many.
   */
  sweepAbandoned(olderThan: Date): Promise<number>;
  /** Free and total bytes of the file system holding the objects; null where that has no meaning (S3). */
  space(): Promise<{ free: number; total: number } | null>;
  /** Resolves when the storage is usable (readiness probe); throws when not. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** `read` found an object larger than the caller's cap (nothing beyond the cap was kept). */
export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`object larger than ${maxBytes} bytes`);
  }
}

/** Collects a stream into one buffer, refusing (and cancelling it) past `maxBytes`. */
export async function collectCapped(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    // Leaving the loop early cancels the stream (the async iterator's return()).
    if (total > maxBytes) throw new ObjectTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, total);
}

/** Keys are `/`-separated, relative, with no empty, `.` or `..` segments. */
export function assertValidKey(key: string): void {
  if (!key || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..') || key.includes('\0')) {
    throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
  }
}
