/**
 * Cost of an HEVC-coded HEIC photo (src/platform/heic.ts, src/modules/transform/heic.ts): a
 * 12 MP photo of the corpus as a phone-sized HEIC (x265 at crf 20), decoded in the worker thread,
 * then made into the JPEG sharp renders from. The first decode starts the thread and loads the
 * decoder; the process's RSS after each, and after the idle thread has ended.
 * Usage: ./node_modules/.bin/bun bench/heic.ts [photo] [crf]
 */
import { hevcHeic } from '../test/helpers/heic';
import { readableImage } from '../src/modules/transform/heic';
import { decodeHeic } from '../src/platform/heic';

const photo = process.argv[2] ?? '../shared/corpus/Garden.jpg';
const heic = await hevcHeic({ width: 4032, height: 3024, rgb: 0, from: photo, crf: Number(process.argv[3] ?? 20) });
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(`${photo} as a 4032×3024 HEIC: ${mib(heic.length)}`);
for (let i = 0; i < 5; i++) {
  let t = performance.now();
  await decodeHeic(heic, 60_000);
  const decode = performance.now() - t;
  t = performance.now();
  const jpeg = await readableImage(heic, { maxPixels: 100_000_000, timeoutMs: 60_000 });
  const both = performance.now() - t;
  Bun.gc(true);
  console.log(`decode ${decode.toFixed(0)} ms; decode + JPEG ${both.toFixed(0)} ms (${mib(jpeg.length)}); RSS ${mib(process.memoryUsage().rss)}`);
}
await Bun.sleep(11_000); // the thread ends after 10 s idle
Bun.gc(true);
console.log(`after the idle thread ended: RSS ${mib(process.memoryUsage().rss)}`);
