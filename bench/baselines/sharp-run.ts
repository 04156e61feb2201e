/**
 * Baseline: sharp called in-process for the same transforms, at the same concurrency, with the
 * same encoder settings and libvips settings as Pictor's pipeline (cache off, threads per image
 * = cores / concurrency). Reads each source from disk like Pictor's fs storage does.
 * argv: <jobs.json> = { concurrency, jobs: [{ src, op }], warm?: [{ src, op }] (rendered first, untimed) };
 * prints one JSON result line.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { ENCODERS } from '../../src/modules/transform/sharp-settings';
import type { ColdOp } from '../lib/cold';

const { concurrency, jobs, warm = [] } = (await Bun.file(process.argv[2]!).json()) as { concurrency: number; jobs: { src: string; op: ColdOp }[]; warm?: { src: string; op: ColdOp }[] };
sharp.cache(false);
sharp.concurrency(Math.max(1, Math.floor(availableParallelism() / concurrency)));

function render(src: string, op: ColdOp): Promise<Buffer> {
  let img = sharp(src, { failOn: 'error' }).autoOrient();
  img = op.fit === 'cover' ? img.resize(op.w, op.h, { fit: 'cover', position: 'centre' }) : img.resize(op.w, undefined, { fit: 'inside', withoutEnlargement: true });
  if (op.format === 'webp') img = img.webp(ENCODERS.webp);
  else if (op.format === 'avif') img = img.avif(ENCODERS.avif);
  else img = img.jpeg({ ...ENCODERS.jpeg, mozjpeg: false });
  return img.toBuffer();
}

// Untimed, as Pictor's side renders the same before its run: an encoder's first use is not timed.
for (const w of warm) await render(w.src, w.op);

const latencies: number[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const s = performance.now();
      await render(job.src, job.op);
      latencies.push(performance.now() - s);
    }
  }),
);
const secs = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0) * 100) / 100;
console.log(JSON.stringify({ count: jobs.length, seconds: secs, rps: Math.round((jobs.length / secs) * 10) / 10, p50_ms: pct(50), p95_ms: pct(95), p99_ms: pct(99) }));
