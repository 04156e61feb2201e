/**
 * Layers (#24 acceptance 6): the cold render cost of a watermarked and of a text-overlaid
 * 1200-px WebP against the same render without a layer, in the same run. Target: a layer adds
 * at most 25 % (`RATIO_TARGET`).
 *
 * Through Pictor's own pipeline, as a miss does once the original is read: probe, then
 * `renderImage` from the JPEG bytes in memory (the watermark's bytes too: the server keeps
 * recently used sources in memory, so a watermark used on every render is not read again).
 * libvips settings are the server's defaults (one libvips thread per render). One untimed render
 * per case first (codecs, Pango and the bundled font loaded). Each round runs the three cases
 * back to back in a rotated order so drift in machine load spreads evenly; figures are medians
 * over the rounds, and the ratios are taken per round (each layered render against the plain
 * one of the same round) and then the median.
 *
 * Cases (the same `w_1200,f_webp` base):
 * - plain: `w_1200,f_webp`
 * - watermark: `+ l_<logo>,lg_south_east,lx_24,ly_24,lw_0.2,lo_60` — a 600×300 PNG logo with
 *   transparency, drawn at 20 % of the width, 60 % opacity;
 * - text: `+ txt_© 2026 Example Photographer,ts_36,tc_rgb:ffffffcc,tb_rgb:00000066,tg_south_east,tx_24,ty_24`.
 *
 * Source: ../shared/corpus/Elephants_3840x2160.jpg (BENCH_CORPUS_DIR) when present, else blurred
 * noise of that size (JPEG q90).
 *
 * Usage: bun bench/overlay.ts [--rounds=15] [--json]. Exits 1 when a layer adds more than 25 %.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ImageLayer } from '../src/modules/transform/overlay';
import { parseTransformation } from '../src/modules/transform/parse';
import { renderImage } from '../src/modules/transform/pipeline';
import { probeImage } from '../src/modules/transform/probe';
import { applySharpSettings } from '../src/modules/transform/sharp-settings';
import { median } from './lib/stats';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
const ROUNDS = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 15);
const RATIO_TARGET = 1.25;

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 600_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };

async function source(): Promise<{ bytes: Buffer; what: string }> {
  const file = join(process.env.BENCH_CORPUS_DIR ?? resolve(import.meta.dir, '../../shared/corpus'), 'Elephants_3840x2160.jpg');
  if (existsSync(file)) return { bytes: await readFile(file), what: file };
  const bytes = await sharp({ create: { width: 3840, height: 2160, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 45 } } })
    .blur(1.2).jpeg({ quality: 90 }).toBuffer();
  return { bytes, what: 'blurred Gaussian noise 3840×2160, JPEG q90 (corpus not found)' };
}

/** A 600×300 logo: an opaque disc and a half-transparent bar on a transparent ground. */
async function logo(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><circle cx="150" cy="150" r="140" fill="#ffffff"/>`
    + `<rect x="300" y="100" width="290" height="100" fill="#ffffff" fill-opacity="0.5"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}


async function main() {
  applySharpSettings(availableParallelism());
  const { bytes, what } = await source();
  const probed = await probeImage(bytes, probeLimits);
  const mark = await logo();
  const text = encodeURIComponent(encodeURIComponent('© 2026 Example Photographer'));
  const cases = [
    { key: 'plain', segment: 'w_1200,f_webp', layers: [] as ImageLayer[] },
    {
      key: 'watermark', segment: 'w_1200,f_webp,l_benchlogo1,lg_south_east,lx_24,ly_24,lw_0.2,lo_60',
      layers: [{ input: mark, gravity: 'south_east', x: 24, y: 24, w: 0.2, opacity: 60 }] as ImageLayer[],
    },
    { key: 'text', segment: `w_1200,f_webp,txt_${text},ts_36,tc_rgb:ffffffcc,tb_rgb:00000066,tg_south_east,tx_24,ty_24`, layers: [] as ImageLayer[] },
  ].map((c) => ({ ...c, options: parseTransformation(c.segment, undefined, limits, new Map()).options }));

  const run = async (c: (typeof cases)[number]) => {
    const started = performance.now();
    const out = await renderImage(bytes, probed, c.options, 'webp', limits, undefined, undefined, c.layers);
    return { ms: performance.now() - started, out };
  };
  for (const c of cases) {
    const { out } = await run(c); // warm-up, untimed
    if (out.width !== 1200) throw new Error(`${c.key}: ${out.width} px wide`);
  }
  const times: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.key, []]));
  const ratios: Record<string, number[]> = { watermark: [], text: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as (typeof cases)[number]);
    const got: Record<string, number> = {};
    for (const c of order) got[c.key] = (await run(c)).ms;
    for (const c of cases) times[c.key]?.push(got[c.key] as number);
    ratios.watermark?.push((got.watermark as number) / (got.plain as number));
    ratios.text?.push((got.text as number) / (got.plain as number));
  }
  const result = {
    source: what,
    rounds: ROUNDS,
    median_ms: Object.fromEntries(cases.map((c) => [c.key, Math.round(median(times[c.key] as number[]) * 10) / 10])),
    ratio: { watermark: Math.round(median(ratios.watermark as number[]) * 1000) / 1000, text: Math.round(median(ratios.text as number[]) * 1000) / 1000 },
    target: RATIO_TARGET,
  };
  console.log(`source: ${what}; ${ROUNDS} rounds, cold renders to a 1200-px WebP`);
  for (const c of cases) console.log(`  ${c.key.padEnd(10)} median ${result.median_ms[c.key]} ms  (${c.segment.slice(0, 90)})`);
  console.log(`  watermark / plain: ${result.ratio.watermark} (median of per-round ratios), text / plain: ${result.ratio.text}; target ≤ ${RATIO_TARGET}`);
  if (asJson) console.log(JSON.stringify(result));
  const ok = result.ratio.watermark <= RATIO_TARGET && result.ratio.text <= RATIO_TARGET;
  console.log(ok ? 'PASS' : 'FAIL: a layer adds more than 25 %');
  process.exit(ok ? 0 : 1);
}

await main();
