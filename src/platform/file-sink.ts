/**
 * Writing a stream of chunks to an open file, as fast as the runtime allows and with bounded
 * memory, and taking the SHA-256 of what was written on the way (the digest an upload is
 * stored under: hashing here lets one copy of each block feed both the writer and the hasher).
 * The caller owns the file handle (it fsyncs and closes it); a sink only writes and hashes.
 *
 * - Where worker threads run (Bun, Deno): `threadedSink` below, writes and hashes on worker threads.
 *   On Bun the writer uses the caller's descriptor; on Deno a descriptor is valid only in the
 *   thread that opened it, so the writer opens the file's `path` itself (no path: next way).
 * - Bun without workers: a `FileSink` on the handle's descriptor (`Bun.file(fd).writer()`),
 *   which buffers up to 1 MiB and writes natively, faster than `FileHandle.write` in the runs
 *   that chose it. `end()` flushes but leaves the descriptor open (the sink test checks), so
 *   fsync-then-rename still works.
 * - Elsewhere: two fixed 1 MiB buffers used in turn, one filling while the other is written.
 * The last two hash on the calling thread as the chunks come.
 *
 * Each way only a few MiB are in flight, so a slow disk slows the upload (backpressure)
 * instead of filling memory.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { blockChannel, BlockStream, type BlockChannel, type StreamFields } from './block-worker';
import { isBun, isDeno } from './runtime';
import { endHash, resumeHash, updateHash } from './resumable-sha256';
import { hashChannel } from './sha256';

const BUFFER_BYTES = 1024 * 1024;

export interface FileSinkWriter {
  /** Takes a chunk (copied or written before the promise settles; the caller may reuse it after). */
  write(chunk: Uint8Array): void | Promise<void>;
  /** True when nothing refers to a chunk once its `write` is done (so the caller may free it). */
  readonly copies: boolean;
  /** Writes whatever is buffered; resolves with the hex SHA-256 of every byte written. */
  end(): Promise<string>;
  /** Stops after a failure: drops what is buffered, never writes again. */
  abort(): Promise<void>;
}

const WRITER_URL = new URL('./file-writer-worker.ts', import.meta.url);

/** Starts the writing thread now (server start) rather than in the middle of the first big upload. */
export const startFileWriterThread = (): void => void blockChannel(WRITER_URL);

export interface FileSinkOptions {
  /** False keeps the writes on the calling thread; the default moves them off it where workers run (`threadedSink`). */
  threaded?: boolean;
  /** The file `fh` has open: the writing thread opens it itself where descriptors are per thread. */
  path?: string;
  /** Have the writing thread open `path` rather than use `fh.fd` (default: on Deno; tests force it). */
  openInWorker?: boolean;
}

export function createFileSink(fh: FileHandle, opts: FileSinkOptions = {}): FileSinkWriter {
  const openInWorker = opts.openInWorker ?? isDeno;
  const usable = opts.threaded !== false && (!openInWorker || opts.path !== undefined);
  const writer = usable ? blockChannel(WRITER_URL) : null;
  const hasher = writer && hashChannel();
  if (writer && hasher) return threadedSink(fh, writer, hasher, openInWorker ? { path: opts.path } : { fd: fh.fd });
  return isBun ? bunSink(fh) : createPortableFileSink(fh);
}

/**
 * Copies each chunk once into 1 MiB shared blocks that go to two worker threads: the writer
 * (`file-writer-worker.ts`) and the hasher (`sha256-worker.ts`). The request thread only
 * copies while writing and hashing happen beside reading the body (bench/upload.sh measures
 * the whole path); one copy feeding both, rather than one per consumer, saves a memcpy of
 * every byte on the request thread. They stay two threads: one thread hashing then writing
 * each block measured far slower (the hash waits whenever the write blocks on the disk). At
 * most a few blocks are in flight per file, so a slow disk still slows the upload.
 */
function threadedSink(fh: FileHandle, writer: BlockChannel, hasher: BlockChannel, target: StreamFields): FileSinkWriter {
  const blocks = new BlockStream([writer, hasher], target);
  let ended = false;
  return {
    write: (chunk) => blocks.write(chunk),
    copies: true,
    async end() {
      ended = true;
      if (blocks.started) return (await blocks.end())[1] as string;
      // A file smaller than one block: one write and hash from here beat the thread hops.
      // Straight from the shared block, whose view both runtimes' file API and hash take: hashed
      // before the block goes back to the pool.
      const rest = blocks.pending();
      await writeAll(fh, rest, rest.byteLength);
      const sha256 = createHash('sha256').update(rest).digest('hex');
      await blocks.abort();
      return sha256;
    },
    async abort() {
      // Wait until the worker holds no block of this file: the caller closes the descriptor next.
      if (ended) return;
      ended = true;
      await blocks.abort();
    },
  };
}

function bunSink(fh: FileHandle): FileSinkWriter {
  const sink = Bun.file(fh.fd).writer({ highWaterMark: BUFFER_BYTES });
  const hash = createHash('sha256');
  let ended = false;
  return {
    // Bun's FileSink may keep the chunk until it flushes.
    copies: false,
    write(chunk) {
      hash.update(chunk);
      const r = sink.write(chunk);
      if (typeof r !== 'number') return r.then(() => {});
    },
    async end() {
      ended = true;
      await sink.flush();
      await sink.end();
      return hash.digest('hex');
    },
    async abort() {
      // End it now, while the descriptor is still ours: a sink left to the GC could flush
      // into whatever file reuses that descriptor number later.
      if (ended) return;
      ended = true;
      try {
        await sink.end();
      } catch {
        /* the temp file is removed anyway */
      }
    },
  };
}

async function writeAll(fh: FileHandle, buf: Uint8Array, length: number): Promise<void> {
  let off = 0;
  while (off < length) off += (await fh.write(buf, off, length - off)).bytesWritten;
}

/** The runtime-neutral sink (Deno, Node); exported for its tests. */
export function createPortableFileSink(fh: FileHandle): FileSinkWriter {
  const hash: Hash = createHash('sha256');
  let fill = new Uint8Array(BUFFER_BYTES);
  let spare = new Uint8Array(BUFFER_BYTES);
  let used = 0;
  let writing: Promise<void> = Promise.resolve();
  const swap = async () => {
    await writing; // the spare buffer is free again
    writing = writeAll(fh, fill, used);
    writing.catch(() => {}); // handled: awaited before the next write or at the end
    [fill, spare] = [spare, fill];
    used = 0;
  };
  return {
    copies: true,
    async write(chunk) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.byteLength) {
        const n = Math.min(BUFFER_BYTES - used, chunk.byteLength - off);
        fill.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === BUFFER_BYTES) await swap();
      }
    },
    async end() {
      await writing;
      await writeAll(fh, fill, used);
      used = 0;
      return hash.digest('hex');
    },
    async abort() {
      await writing.catch(() => {});
      used = 0;
    },
  };
}

/** One chunk of a resumable upload: where its bytes go and which running hash they continue. */
export interface ChunkSinkOptions {
  /** The upload's key for its running SHA-256 (`resumable-sha256.ts`); null hashes nothing. */
  hashKey: string | null;
  /** The upload's offset: the chunk's first byte goes there, and the hash continues from there. */
  base: number;
  /** The partial file to write into (none: the caller stores the bytes itself, as the S3 store does). */
  file?: { fh: FileHandle; path: string };
  /** False writes and hashes on the calling thread (tests; where workers cannot run this happens anyway). */
  threaded?: boolean;
}

export interface ChunkSink {
  write(chunk: Uint8Array): void | Promise<void>;
  /**
   * Writes what is buffered; resolves with the hex SHA-256 of the upload through this chunk,
   * or null when the bytes before it were hashed elsewhere (or not at all). Rejects when a write failed.
   */
  end(): Promise<string | null>;
  abort(): Promise<void>;
}

/**
 * A tus chunk's bytes, written at the upload's offset and hashed on from its running state,
 * off the request thread as `threadedSink` does for whole uploads (one copy into shared blocks
 * feeding the writer and the hasher). Without workers: written and hashed here, in order.
 */
export function createChunkSink(opts: ChunkSinkOptions): ChunkSink {
  const openInWorker = isDeno;
  const writer = opts.file ? blockChannel(WRITER_URL) : null;
  const hasher = opts.hashKey !== null ? hashChannel() : null;
  const usable = opts.threaded !== false && (!opts.file || writer) && (opts.hashKey === null || hasher);
  if (usable && (writer || hasher)) {
    const channels = [writer, hasher].filter((c): c is BlockChannel => c !== null);
    const fields: StreamFields = {
      base: opts.base,
      ...(opts.hashKey !== null ? { resume: opts.hashKey } : {}),
      ...(opts.file ? (openInWorker ? { path: opts.file.path } : { fd: opts.file.fh.fd }) : {}),
    };
    const blocks = new BlockStream(channels, fields);
    return {
      write: (chunk) => blocks.write(chunk),
      async end() {
        const results = await blocks.end();
        return hasher ? (results[channels.length - 1] as string | null) : null;
      },
      // Also after a failed `end`: it returns once the workers hold no block (the caller closes the file next).
      abort: () => blocks.abort(),
    };
  }
  const hash = opts.hashKey !== null ? resumeHash(opts.hashKey, opts.base) : null;
  let pos = opts.base;
  return {
    async write(chunk) {
      if (hash) updateHash(hash, chunk);
      if (opts.file) await writeAt(opts.file.fh, chunk, pos);
      pos += chunk.byteLength;
    },
    end: async () => (hash ? endHash(hash) : null),
    abort: async () => {},
  };
}

async function writeAt(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < buf.byteLength) off += (await fh.write(buf, off, buf.byteLength - off, position + off)).bytesWritten;
}
