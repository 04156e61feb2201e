/**
 * Baseline for the tus bench: the least a resumable upload server on disk can do, next to the
 * least a raw one can, in one process. No parsing, hashing, database, locks or checks.
 * - `POST /raw`: the body to a file, fsync, 201 (like sink-server.ts).
 * - `POST /tus` with `Upload-Length`: creates an empty file, 201 with its `Location`.
 * - `PATCH /tus/<n>` with `Upload-Offset`: the body written at that offset, `fdatasync`, 204 with
 *   the new `Upload-Offset`. Like any tus server that acknowledges an offset a client may resume
 *   from after a crash, the bytes are durable before the answer.
 * The ratio of the two on the same client shows what splitting into PATCHes, each made
 * durable before it is answered, costs on this machine, whatever the server does besides.
 * argv: <directory>. Prints {"port":N} once listening.
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2]!;
let n = 0;
const offsets = new Map<string, number>();

/** Writes `body` at `at` in `fd`; the bytes written. */
async function writeBody(fd: number, body: ReadableStream<Uint8Array>, at: number): Promise<number> {
  let pos = at;
  for await (const chunk of body) {
    let off = 0;
    while (off < chunk.byteLength) off += writeSync(fd, chunk, off, chunk.byteLength - off, pos + off);
    pos += chunk.byteLength;
  }
  return pos - at;
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  maxRequestBodySize: 4 * 1024 ** 3,
  idleTimeout: 0,
  async fetch(req) {
    const { pathname } = new URL(req.url);
    if (req.method === 'POST' && pathname === '/raw' && req.body) {
      const fd = openSync(join(dir, `raw-${n++}`), 'w');
      try {
        const size = await writeBody(fd, req.body, 0);
        fsyncSync(fd);
        return Response.json({ size }, { status: 201 });
      } finally {
        closeSync(fd);
      }
    }
    if (req.method === 'POST' && pathname === '/tus') {
      const id = String(n++);
      closeSync(openSync(join(dir, `tus-${id}`), 'w'));
      offsets.set(id, 0);
      return new Response(null, { status: 201, headers: { location: `/tus/${id}`, 'tus-resumable': '1.0.0' } });
    }
    const id = pathname.startsWith('/tus/') ? pathname.slice(5) : '';
    const offset = offsets.get(id);
    if (req.method === 'PATCH' && offset !== undefined && req.body) {
      if (Number(req.headers.get('upload-offset')) !== offset) return new Response('offset mismatch', { status: 409 });
      const fd = openSync(join(dir, `tus-${id}`), 'r+');
      try {
        const next = offset + (await writeBody(fd, req.body, offset));
        fdatasyncSync(fd);
        offsets.set(id, next);
        return new Response(null, { status: 204, headers: { 'upload-offset': String(next), 'tus-resumable': '1.0.0' } });
      } finally {
        closeSync(fd);
      }
    }
    return new Response('not found', { status: 404 });
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
