/**
 * The baseline for the upload benchmark: the smallest Bun server that streams a request body
 * to a file on disk. Pictor's raw upload path is compared against it in the same run.
 * Usage: bun bench/baseline-upload-server.ts <dir>   (prints `listening <port>`)
 */
import { join } from 'node:path';

const dir = process.argv[2] ?? '/tmp';
let n = 0;
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  maxRequestBodySize: 4 * 1024 ** 3,
  async fetch(req) {
    const path = join(dir, `upload-${process.pid}-${n++}`);
    const sink = Bun.file(path).writer();
    let size = 0;
    for await (const chunk of req.body!) {
      size += chunk.byteLength;
      sink.write(chunk);
    }
    await sink.end();
    return Response.json({ size }, { status: 201 });
  },
});
console.log(`listening ${server.port}`);
