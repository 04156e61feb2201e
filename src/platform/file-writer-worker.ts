/**
 * The writing thread of `file-sink.ts`: writes each block at its offset into the descriptor the
 * request thread opened (Bun: descriptors are process-wide), or into the file at `path`, which
 * it opens on the stream's first block and closes at its end or drop (Deno, whose descriptors
 * are valid only in the thread that opened them). Synchronous writes are right here: this
 * thread has nothing else to do, and the request thread never waits on the disk unless all of
 * its blocks are out.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { serveBlocks } from './block-worker';

interface WriterState {
  fd: number;
  /** True when this thread opened `fd` (by path) and so must close it. */
  own: boolean;
  /** Where the stream starts in the file (a resumed upload appends at its offset). */
  base: number;
  written: number;
}

const release = (file: WriterState) => {
  if (file.own && file.fd >= 0) closeSync(file.fd);
  file.fd = -1;
};

serveBlocks<WriterState>({
  // 'r+': the request thread created the file; the sizes and offsets are this stream's.
  open: (fields) => ({
    ...(fields.path ? { fd: openSync(fields.path, 'r+'), own: true } : { fd: fields.fd ?? -1, own: false }),
    base: fields.base ?? 0,
    written: 0,
  }),
  block(file, bytes, pos) {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(file.fd, bytes, off, bytes.byteLength - off, file.base + pos + off);
    file.written += bytes.byteLength;
  },
  end(file) {
    release(file);
    return file.written;
  },
  drop: release,
});
