/**
 * Baseline: a minimal Bun server streaming an upload body to disk (temp file, fsync, rename —
 * the same durability Pictor's fs driver gives), no parsing, no hashing, no database.
 * argv: <directory> [nosync]. `nosync` skips the fsync (answers once the bytes are in the page
 * cache): not like-for-like with a server whose 201 means "durable", reported for reference.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2]!;
const durable = process.argv[3] !== 'nosync';
let n = 0;
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  maxRequestBodySize: 4 * 1024 ** 3,
  async fetch(req) {
    if (!req.body) return new Response('no body', { status: 400 });
    // Numbered when the request starts: concurrent uploads each get their own temp file.
    const id = n++;
    const tmp = join(dir, `.upload-${id}`);
    const fd = openSync(tmp, 'w');
    let size = 0;
    try {
      for await (const chunk of req.body) {
        let off = 0;
        while (off < chunk.byteLength) off += writeSync(fd, chunk, off);
        size += chunk.byteLength;
      }
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(dir, `upload-${id}`));
    return Response.json({ size }, { status: 201 });
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
