/**
 * The writing thread of `file-sink.ts`: writes each block at its offset into the descriptor the
 * request thread opened (descriptors are process-wide). Synchronous writes are right here: this
 * thread has nothing else to do, and the request thread never waits on the disk unless all of
 * its blocks are out.
 */
import { writeSync } from 'node:fs';
import { serveBlocks } from './block-worker';

serveBlocks<{ fd: number; written: number }>({
  open: (fields) => ({ fd: fields.fd ?? -1, written: 0 }),
  block(file, bytes, pos) {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(file.fd, bytes, off, bytes.byteLength - off, pos + off);
    file.written += bytes.byteLength;
  },
  end: (file) => file.written,
});
