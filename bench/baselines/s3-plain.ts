/**
 * Baseline: a plain multipart upload of a file to S3 with Bun's client, the same part size as
 * Pictor's S3 driver (src/storage/s3-upload.ts) and one part in flight, no HTTP in front, no
 * hashing, no database. argv: <file> <endpoint> <bucket> <accessKeyId> <secretAccessKey>.
 * Prints one JSON line: seconds, MB/s, the process's RSS growth.
 */
import { PART_BYTES } from '../../src/storage/s3-upload';

const [file, endpoint, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2) as [string, string, string, string, string];
const rss = () => process.memoryUsage.rss() / 2 ** 20;
const client = new Bun.S3Client({ endpoint, bucket, accessKeyId, secretAccessKey, region: 'us-east-1', virtualHostedStyle: false });
const bytes = Bun.file(file).size;
const before = rss();
let peak = before;
const timer = setInterval(() => (peak = Math.max(peak, rss())), 50);
const t0 = performance.now();
await client.file(`plain-${Date.now()}`).write(new Response(Bun.file(file).stream()), { partSize: PART_BYTES, queueSize: 1 });
const seconds = (performance.now() - t0) / 1000;
clearInterval(timer);
console.log(JSON.stringify({ seconds, mb_per_s: Math.round((bytes / 1e6 / seconds) * 10) / 10, rss_growth_mib: Math.round((Math.max(peak, rss()) - before) * 10) / 10 }));
