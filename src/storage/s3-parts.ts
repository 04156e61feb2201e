/**
 * What the S3 driver (s3.ts, s3-upload.ts) and tus's S3 store (modules/tus/store-s3.ts) share:
 * the client's settings, pools of part buffers, and requests whose body is streamed as a part's
 * bytes arrive.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { PacedBody, s3RequestHandler } from '../platform/s3-http';

export interface S3ClientOptions {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** `S3_TIMEOUT_MS`: how long a request may wait on the storage without progress. */
  timeoutMs?: number;
}

/** The SDK client of the S3 driver and of tus's S3 store. */
export function createS3Client(o: S3ClientOptions): S3Client {
  return new S3Client({
    region: o.region,
    endpoint: o.endpoint,
    forcePathStyle: o.forcePathStyle,
    credentials: o.accessKeyId && o.secretAccessKey ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } : undefined,
    // No CRC32 per request (the SDK's default since 2025): a streamed part would go in aws-chunked
    // framing, which doubled the request thread's CPU per GiB (docs/TUNING.md, "Resumable (tus)
    // uploads"). A file's SHA-256 is Pictor's own, taken as it arrives.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // Bun's native fetch where it runs, and a bound on a storage that stops answering (platform/s3-http.ts).
    requestHandler: s3RequestHandler(o.timeoutMs ?? 15_000),
    // The SDK's own words went to stdout as plain text (a failed streamed part: "An error was
    // encountered…"), among the JSON logs; the caller logs the failure, with its request.
    logger: QUIET,
  });
}

const QUIET = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * A streamed part's failure as the SDK reports its other calls' (`$metadata`): it does not retry
 * a request with a streamed body and threw its fetch error bare, which errors.ts could not tell
 * from a bug (a 500 instead of a 503 when the storage went away mid-part).
 */
function asStorageCallError(err: unknown): unknown {
  if (err !== null && typeof err === 'object' && !('$metadata' in err)) Object.defineProperty(err, '$metadata', { value: {}, enumerable: false });
  return err;
}

export interface PartPool {
  readonly size: number;
  take(): Uint8Array;
  give(b: Uint8Array): void;
}

/**
 * Part buffers of one size kept for the next upload (at most four). Fresh buffers per upload
 * were external garbage that only full collections freed (docs/TUNING.md, "Measurements behind
 * code choices").
 */
export function partPool(size: number): PartPool {
  const kept: Uint8Array[] = [];
  return {
    size,
    take: () => kept.pop() ?? new Uint8Array(size),
    give: (b) => void (kept.length < 4 && b.byteLength === size && !kept.includes(b) && kept.push(b)),
  };
}

export interface LiveSend {
  readonly size: number;
  /** All `size` bytes are queued. */
  readonly ended: boolean;
  /** Settles with the request's result once S3 has all `size` bytes. */
  readonly done: Promise<unknown>;
  /**
   * The part buffer now holds `filled` bytes: queues the new ones (views, no copy: the buffer is
   * not reused until `done` settles) and ends the body at `size`.
   */
  advance(filled: number): void;
  /** The body ended early: the request is aborted without a stored byte (S3 keeps only whole parts and objects). */
  drop(): void;
}

/**
 * Bytes queued per write. A raw upload's body arrives in ~64 KiB chunks; a write for each cost
 * the request thread about 0.7 s more CPU per GiB (docs/TUNING.md, "Storage").
 */
const QUEUE_BYTES = 512 * 1024;

/**
 * A request whose body, the first `size` bytes of `buffer`, is streamed as they are filled in, so
 * that the part is on its way while it fills instead of being sent once full. Its size must be
 * known up front: S3 takes a streamed body only with its `Content-Length` (or in aws-chunked
 * framing, which the clients here avoid: it doubled the request thread's CPU per GiB, docs/TUNING.md).
 */
export function sendLive(buffer: Uint8Array, size: number, send: (body: Readable, abortSignal: AbortSignal) => Promise<unknown>): LiveSend {
  // Queued views sit in the stream until sent: at most `size` bytes of a buffer that exists anyway.
  const stream = new PacedBody();
  const abort = new AbortController();
  let queued = 0;
  const done = send(stream, abort.signal).catch((err: unknown) => {
    throw asStorageCallError(err);
  });
  done.catch(() => {}); // handled by the caller, or dropped with the body
  return {
    size,
    get ended() {
      return queued === size;
    },
    done,
    advance(filled) {
      if (filled - queued < QUEUE_BYTES && filled < size) return;
      stream.push(buffer.subarray(queued, filled));
      queued = filled;
      if (queued === size) stream.push(null);
    },
    drop() {
      // Aborted, not just ended: a request piped from a failed stream would wait for its missing bytes.
      abort.abort(new Error('the body ended before this part'));
      stream.destroy();
    },
  };
}

/**
 * Parts on their way and their buffers: at most one in flight besides the one filling, so an
 * upload holds two part buffers at most and a failed part is remembered.
 */
export function createPartQueue(pool: PartPool) {
  const inFlight = new Set<Promise<void>>();
  const buffers = new Map<Promise<void>, Uint8Array>();
  let failed: { err: unknown } | null = null;
  return {
    /** `data` is reused only once `p` has settled. */
    add(p: Promise<void>, data: Uint8Array): void {
      // Kept as a promise that never rejects: a failure is remembered here and thrown by
      // `throwIfFailed`/`settle`, never from `nextBuffer` with the buffer still in the queue.
      const done: Promise<void> = p.catch((err: unknown) => void (failed ??= { err })).finally(() => inFlight.delete(done));
      inFlight.add(done);
      buffers.set(done, data);
    },
    /** A buffer for the next part: a sent part's once at most one other is in flight. */
    async nextBuffer(): Promise<Uint8Array> {
      while (inFlight.size > 1) await Promise.race(inFlight);
      for (const [p, data] of buffers) {
        if (!inFlight.has(p)) {
          buffers.delete(p);
          return data;
        }
      }
      return pool.take();
    },
    /** Throws if a part failed already (no point reading the rest of the body). */
    throwIfFailed(): void {
      if (failed) throw failed.err;
    },
    /** Waits for every part (and `others`) to settle; throws the first failure. */
    async settle(...others: (Promise<unknown> | null)[]): Promise<void> {
      const settled = await Promise.allSettled([...buffers.keys(), ...others]);
      if (failed) throw failed.err;
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
    /** Gives every buffer back to the pool (after `settle`: none is still being read). */
    release(): void {
      for (const data of buffers.values()) pool.give(data);
      buffers.clear();
    },
  };
}
