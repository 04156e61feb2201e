/**
 * Cost of the upload-time truncation check (src/modules/files/truncation.ts, #17.7): the
 * structure walk every JPEG, PNG and AVIF/HEIF upload passes through, fed in 64 KiB chunks as
 * uploads arrive. The JPEG is 12 MP of noise at quality 95, the worst case (the most 0xFF bytes
 * in its entropy data to step over); the PNG is 4 MP of noise. Prints the median of 5 runs.
 * Usage: ./node_modules/.bin/bun bench/truncation.ts
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { truncationCheckFor } from '../src/modules/files/truncation';

const noise = (w: number, h: number) => sharp(randomBytes(w * h * 3), { raw: { width: w, height: h, channels: 3 } });
const inputs: [string, Buffer][] = [
  ['image/jpeg', await noise(4000, 3000).jpeg({ quality: 95 }).toBuffer()],
  ['image/png', await noise(2000, 2000).png({ compressionLevel: 1 }).toBuffer()],
];
const CHUNK = 64 * 1024;
for (const [type, bytes] of inputs) {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    const check = truncationCheckFor(type)!;
    for (let i = 0; i < bytes.length; i += CHUNK) check.push(bytes.subarray(i, i + CHUNK));
    const verdict = check.end();
    runs.push(performance.now() - started);
    if (verdict) throw new Error(`${type}: a whole file was flagged: ${verdict}`);
  }
  const ms = runs.sort((a, b) => a - b)[2]!;
  console.log(`${type.padEnd(11)} ${(bytes.length / 1e6).toFixed(1).padStart(5)} MB  ${ms.toFixed(1).padStart(6)} ms  ${(bytes.length / 1e6 / (ms / 1000)).toFixed(0).padStart(6)} MB/s`);
}
