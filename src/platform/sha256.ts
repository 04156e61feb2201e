/**
 * SHA-256 of an upload as it streams, off the request thread once the stream is big. The S3
 * driver uses `createStreamHasher`; the fs driver's threaded sink sends the blocks it writes
 * to the same thread (`hashChannel`), so one copy feeds both.
 *
 * Why not just `createHash` inline: at upload speeds the hash is the biggest single cost on the
 * request thread (even with SHA-NI; docs/TUNING.md, "Measurements behind code choices"), in series with reading and writing the
 * body. Here the bytes go in 1 MiB blocks to a worker thread (`block-worker.ts`) that hashes
 * them while the request thread goes on.
 *
 * Small streams never reach the worker: a stream that ends before filling its first block is
 * hashed inline (no thread hop for a 200 KB upload). Where workers are unavailable everything
 * is hashed inline; the digest is the same either way.
 */
import { createHash, type Hash } from 'node:crypto';
import { blockChannel, BlockStream } from './block-worker';

const WORKER_URL = new URL('./sha256-worker.ts', import.meta.url);

export interface StreamHasher {
  /** Takes a chunk, copied by the time it returns or its promise settles (then the caller may reuse it). */
  update(chunk: Uint8Array): void | Promise<void>;
  /** The hex digest of everything given; the hasher is finished after it. */
  digest(): Promise<string>;
  /** Forgets the stream (a failed upload); never digests. */
  abort(): void;
}

/** The hashing thread's channel (null where workers cannot run), for streams that feed it blocks they also send elsewhere. */
export const hashChannel = () => blockChannel(WORKER_URL);

/** Starts the hashing thread now (server start) rather than in the middle of the first big upload. */
export const startHashThread = (): void => void hashChannel();

export function createStreamHasher(): StreamHasher {
  const channel = hashChannel();
  let inline: Hash | null = channel ? null : createHash('sha256');
  const blocks = channel ? new BlockStream(channel) : null;
  let finished = false;
  return {
    update(chunk) {
      if (finished) throw new Error('hasher already finished');
      if (inline) return void inline.update(chunk);
      return (blocks as BlockStream).write(chunk);
    },
    async digest() {
      finished = true;
      if (inline) return inline.digest('hex');
      const b = blocks as BlockStream;
      if (!b.started) {
        // Never filled a block: cheaper to hash here than to hop to the worker and back.
        const hex = createHash('sha256').update(b.pending()).digest('hex');
        void b.abort();
        return hex;
      }
      return (await b.end())[0] as string;
    },
    abort() {
      finished = true;
      void blocks?.abort();
    },
  };
}
