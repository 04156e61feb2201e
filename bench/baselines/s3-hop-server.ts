/**
 * Baseline: the least a server in front of S3 can do. Each POST's body goes straight to MinIO
 * through Bun's native client, with Pictor's part size and one part in flight: no hashing, no
 * sniffing, no database, no limits. It measures what the extra hop (the client sending over
 * HTTP, a server receiving) costs on the same cores, which the plain baseline (s3-plain.ts,
 * a client reading a file and sending it to MinIO itself) does not pay.
 * argv: <endpoint> <bucket> <accessKeyId> <secretAccessKey>. Prints {"port":N} once listening.
 */
import { PART_BYTES } from '../../src/storage/s3-upload';

const [endpoint, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2) as [string, string, string, string];
const client = new Bun.S3Client({ endpoint, bucket, accessKeyId, secretAccessKey, region: 'us-east-1', virtualHostedStyle: false });
let n = 0;
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  maxRequestBodySize: 8 * 2 ** 30,
  idleTimeout: 0,
  async fetch(req) {
    if (!req.body) return new Response('no body', { status: 400 });
    const key = `hop-${Date.now()}-${n++}`;
    await client.file(key).write(new Response(req.body), { partSize: PART_BYTES, queueSize: 1 });
    return new Response(JSON.stringify({ key }), { status: 201 });
  },
});
console.log(JSON.stringify({ port: server.port }));
