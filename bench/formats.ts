/**
 * Output encoders (issue #26 point 5): the cold render time of an 18 MP photo (5640×3172) to
 * 1200 px and 400 px in each output format through Pictor's own pipeline (probe + `renderImage`
 * from the JPEG bytes in memory, as a miss does once the original is read), the AVIF/JPEG ratio
 * (target ≤ 2), and for AVIF candidates (effort 0–4 × chroma 4:2:0 / 4:4:4, and a quality sweep
 * at the chosen effort) the time, the size and quality figures (bench/lib/quality.ts) against the
 * same resize encoded losslessly (the pipeline's PNG).
 *
 * libvips settings are the server's defaults (TRANSFORM_CONCURRENCY = cores → one libvips thread
 * per render). One untimed render per format first (codec libraries loaded). Each round runs every
 * case in a rotated order so drift in machine load spreads evenly; figures are medians over the
 * rounds and the AVIF/JPEG ratio is also taken per round (JPEG and AVIF back to back).
 *
 * Source: ../shared/corpus/Elephants_3840x2160.jpg (BENCH_CORPUS_DIR) resized up to 5640×3172
 * with sharp and stored as JPEG q90; blurred noise of that size when the corpus is absent.
 *
 * Usage: bun bench/formats.ts [--rounds=5] [--quick] [--ratios-only] [--json]. `--json` ends the
 * output with one JSON line (bench/run.ts reads it). Exits 1 when AVIF/JPEG at 1200 px is above 2.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { OutputFormat } from '../src/modules/transform/options';
import { parseTransformation } from '../src/modules/transform/parse';
import { renderImage } from '../src/modules/transform/pipeline';
import { probeImage } from '../src/modules/transform/probe';
import { applySharpSettings, ENCODERS, type EncoderSettings } from '../src/modules/transform/sharp-settings';
import { compare, decodeRgb, type Quality } from './lib/quality';
import { median } from './lib/stats';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const asJson = args.includes('--json');
/** Only JPEG, WebP and the chosen AVIF (what `npm run bench -- --quick` runs): no candidates, no corpus. */
const ratiosOnly = args.includes('--ratios-only');
const ROUNDS = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? (quick ? 3 : 5));
/** The slow candidates (AVIF effort ≥ 3) run in fewer rounds: each costs seconds. */
const SLOW_ROUNDS = Math.min(ROUNDS, quick ? 1 : 3);
const WIDTHS = [1200, 400];
const TARGET = 2;
const W = 5640, H = 3172;

const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000, maxInputPixels: 100_000_000, timeoutMs: 600_000 };
const probeLimits = { maxInputPixels: 100_000_000, maxAnimationFrames: 300, rasterizeSvg: false };

interface Case {
  key: string;
  label: string;
  format: OutputFormat;
  width: number;
  encoders: EncoderSettings;
  group: 'format' | 'effort' | 'quality';
  rounds: number;
  /** Wall milliseconds per run. */
  times: number[];
  /** CPU milliseconds of this process per run (user + system, every thread). */
  cpu: number[];
  bytes?: number;
  quality?: Quality;
}

const CORPUS = process.env.BENCH_CORPUS_DIR ?? resolve(import.meta.dir, '../../shared/corpus');

async function makeSource(): Promise<{ bytes: Buffer; what: string }> {
  const dir = CORPUS;
  const photo = join(dir, 'Elephants_3840x2160.jpg');
  if (existsSync(photo)) {
    const bytes = await sharp(photo).resize(W, H, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
    return { bytes, what: `${photo} resized up to ${W}×${H}, JPEG q90` };
  }
  const bytes = await sharp({ create: { width: W, height: H, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 45 } } })
    .blur(1.2).jpeg({ quality: 90 }).toBuffer();
  return { bytes, what: `blurred Gaussian noise ${W}×${H}, JPEG q90 (corpus not found at ${dir})` };
}

const avifWith = (a: Partial<EncoderSettings['avif']>): EncoderSettings => ({ ...ENCODERS, avif: { ...ENCODERS.avif, ...a } });
/** AVIF as encoded before this bench chose the settings (sharp's default 4:4:4). */
const PREVIOUS = avifWith({ effort: 4, chromaSubsampling: '4:4:4', quality: 55 });
const avifLabel = (a: EncoderSettings['avif']) => `effort ${a.effort}, ${a.chromaSubsampling}, q${a.quality}`;

function buildCases(): Case[] {
  const cases = new Map<string, Case>();
  const add = (c: Omit<Case, 'key' | 'times' | 'cpu' | 'rounds'>) => {
    const key = `${c.format}:${c.width}:${c.format === 'avif' ? avifLabel(c.encoders.avif) : ''}`;
    if (cases.has(key)) return;
    const rounds = c.format === 'avif' && c.encoders.avif.effort >= 3 ? SLOW_ROUNDS : ROUNDS;
    if (ratiosOnly && c.group !== 'format') return;
    cases.set(key, { ...c, key, rounds, times: [], cpu: [] });
  };
  for (const width of WIDTHS) {
    add({ label: `JPEG q${ENCODERS.jpeg.quality}`, format: 'jpeg', width, encoders: ENCODERS, group: 'format' });
    add({ label: `WebP q${ENCODERS.webp.quality}, effort ${ENCODERS.webp.effort}`, format: 'webp', width, encoders: ENCODERS, group: 'format' });
    add({ label: `AVIF ${avifLabel(ENCODERS.avif)} (chosen)`, format: 'avif', width, encoders: ENCODERS, group: 'format' });
    add({ label: `AVIF ${avifLabel(PREVIOUS.avif)} (previous default)`, format: 'avif', width, encoders: PREVIOUS, group: 'effort' });
    for (const effort of [0, 1, 2, 3, 4]) {
      for (const chromaSubsampling of ['4:2:0', '4:4:4'] as const) {
        const encoders = avifWith({ effort, chromaSubsampling });
        add({ label: `AVIF ${avifLabel(encoders.avif)}`, format: 'avif', width, encoders, group: 'effort' });
      }
    }
  }
  for (const effort of [0, 1]) {
    for (const quality of [50, 55, 58, 60, 63, 65]) {
      const encoders = avifWith({ effort, quality, chromaSubsampling: '4:2:0' });
      add({ label: `AVIF ${avifLabel(encoders.avif)}`, format: 'avif', width: 1200, encoders, group: 'quality' });
    }
  }
  return [...cases.values()];
}


applySharpSettings(availableParallelism());
const started = Date.now();
const source = await makeSource();
const probed = await probeImage(source.bytes, probeLimits);
const optionsFor = (width: number) => parseTransformation(`w_${width}`, undefined, limits, new Map()).options;
const render = (c: Pick<Case, 'format' | 'width' | 'encoders'>) => renderImage(source.bytes, probed, optionsFor(c.width), c.format, limits, c.encoders);
/** What one cold render does after reading the original: probe, then render. */
async function timed(c: Case): Promise<Uint8Array> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await probeImage(source.bytes, probeLimits);
  const out = await render(c);
  const cpu = process.cpuUsage(cpu0);
  c.times.push(performance.now() - t0);
  c.cpu.push((cpu.user + cpu.system) / 1000);
  return out.body;
}

const cases = buildCases();
const log = (m: string) => console.error(m);
log(`source: ${source.what} (${(source.bytes.byteLength / 1e6).toFixed(1)} MB); ${cases.length} cases, ${ROUNDS} rounds (effort ≥ 3: ${SLOW_ROUNDS})`);
for (const format of ['jpeg', 'webp', 'avif'] as const) await render({ format, width: 400, encoders: ENCODERS }); // warm-up

const references = new Map<number, Awaited<ReturnType<typeof decodeRgb>>>();
for (const width of WIDTHS) references.set(width, await decodeRgb((await render({ format: 'png', width, encoders: ENCODERS })).body));

const perRound = new Map<number, { wall: number[]; cpu: number[] }>(WIDTHS.map((w) => [w, { wall: [], cpu: [] }]));
const chosen = (width: number, format: OutputFormat) => cases.find((c) => c.group === 'format' && c.width === width && c.format === format)!;
for (let round = 0; round < ROUNDS; round++) {
  // JPEG and the chosen AVIF back to back, order alternating, for the per-round ratio.
  for (const width of WIDTHS) {
    const [jpeg, avif] = [chosen(width, 'jpeg'), chosen(width, 'avif')];
    for (const c of round % 2 ? [avif, jpeg] : [jpeg, avif]) await timed(c);
    perRound.get(width)!.wall.push(avif.times.at(-1)! / jpeg.times.at(-1)!);
    perRound.get(width)!.cpu.push(avif.cpu.at(-1)! / jpeg.cpu.at(-1)!);
  }
  const rest = cases.filter((c) => !(c.group === 'format' && c.format !== 'webp') && c.times.length < c.rounds);
  const shift = (round * 7) % Math.max(1, rest.length);
  for (const c of [...rest.slice(shift), ...rest.slice(0, shift)]) {
    const body = await timed(c);
    if (c.quality === undefined) {
      c.bytes = body.byteLength;
      c.quality = compare(references.get(c.width)!, await decodeRgb(body));
    }
  }
  log(`round ${round + 1}/${ROUNDS} done [${((Date.now() - started) / 1000).toFixed(0)} s]`);
}
// The pair above only timed; their sizes and quality once here.
for (const c of cases.filter((c) => c.quality === undefined)) {
  const body = (await render(c)).body;
  c.bytes = body.byteLength;
  c.quality = compare(references.get(c.width)!, await decodeRgb(body));
}

/**
 * The corpus photos as they are (no upscaling), chosen settings only: is AVIF no larger than WebP,
 * at what quality, and at what CPU (one run each, so ±10 % here).
 */
async function corpusCheck(): Promise<string[]> {
  if (ratiosOnly) return ['(--ratios-only: skipped)'];
  if (!existsSync(CORPUS)) return [`(corpus not found at ${CORPUS}: skipped)`];
  const lines = [
    '| photo | px | JPEG KiB / SSIM / CPU ms | WebP KiB / SSIM / CPU ms | AVIF KiB / SSIM / CPU ms | AVIF/WebP bytes | AVIF/JPEG CPU | previous AVIF KiB / SSIM / CPU ms |',
    '|---|---:|---|---|---|---:|---:|---|',
  ];
  for (const name of readdirSync(CORPUS).filter((f) => /\.jpe?g$/i.test(f)).sort()) {
    const bytes = await readFile(join(CORPUS, name));
    const p = await probeImage(bytes, probeLimits);
    for (const width of WIDTHS) {
      const o = optionsFor(width);
      const ref = await decodeRgb((await renderImage(bytes, p, o, 'png', limits)).body);
      const out: Record<string, { kib: number; ssim: number; cpu: number }> = {};
      for (const [key, format, encoders] of [['jpeg', 'jpeg', ENCODERS], ['webp', 'webp', ENCODERS], ['avif', 'avif', ENCODERS], ['before', 'avif', PREVIOUS]] as const) {
        const cpu0 = process.cpuUsage();
        const body = (await renderImage(bytes, p, o, format, limits, encoders)).body;
        const cpu = process.cpuUsage(cpu0);
        out[key] = { kib: body.byteLength / 1024, ssim: compare(ref, await decodeRgb(body)).ssimY, cpu: (cpu.user + cpu.system) / 1000 };
      }
      const cell = (f: string) => `${fmt(out[f]!.kib, 1)} / ${fmt(out[f]!.ssim, 4)} / ${fmt(out[f]!.cpu)}`;
      lines.push(`| ${name} | ${width} | ${cell('jpeg')} | ${cell('webp')} | ${cell('avif')} | ${fmt(out.avif!.kib / out.webp!.kib, 2)} | ${fmt(out.avif!.cpu / out.jpeg!.cpu, 2)} | ${cell('before')} |`);
    }
  }
  return lines;
}

const fmt = (n: number, d = 0) => n.toFixed(d);
const corpusLines = await corpusCheck();
const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
const row = (c: Case) => {
  const jpeg = chosen(c.width, 'jpeg');
  const q = c.quality!;
  return `| ${c.label} | ${fmt(median(c.cpu))} (${range(c.cpu)}) | ${fmt(median(c.times))} (${range(c.times)}) | ${c.times.length} | `
    + `${fmt(median(c.cpu) / median(jpeg.cpu), 2)} | ${fmt(median(c.times) / median(jpeg.times), 2)} | ${fmt(c.bytes! / 1024, 1)} | ${fmt(q.ssimY, 4)} | ${fmt(q.psnrRgb, 2)} | ${fmt(q.psnrChroma, 2)} |`;
};
const header = '| encoder | CPU ms median (min–max) | wall ms median (min–max) | rounds | × JPEG CPU | × JPEG wall | KiB | SSIM (Y) | PSNR RGB dB | PSNR CbCr dB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
const summarise = (xs: number[]) => ({ median: Math.round(median(xs) * 100) / 100, min: Math.round(Math.min(...xs) * 100) / 100, max: Math.round(Math.max(...xs) * 100) / 100 });
const ratios = WIDTHS.map((width) => {
  const r = perRound.get(width)!;
  const cpu = summarise(r.cpu), wall = summarise(r.wall);
  return { width, cpu, wall, met: cpu.median <= TARGET };
});
const show = (x: { median: number; min: number; max: number }) => `**${fmt(x.median, 2)}** (${fmt(x.min, 2)}–${fmt(x.max, 2)})`;

console.log(`## Output encoders: cold render of an 18 MP photo (${new Date().toISOString()})\n`);
console.log(`Command: \`./node_modules/.bin/bun bench/formats.ts${args.length ? ' ' + args.join(' ') : ''}\`. ${availableParallelism()} cores, one libvips thread per render (the default TRANSFORM_CONCURRENCY), sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, aom ${sharp.versions.aom ?? '?'}.`);
console.log(`Source: ${source.what}. A render = probe + Pictor's renderImage (decode with shrink-on-load, resize, encode), one at a time. `
  + `CPU = this process's user + system time over the render (every thread); wall = elapsed. A render runs on one libvips thread, so on an idle machine wall ≈ CPU; on a shared one wall also counts waiting for a core, so the ratios are judged on CPU. `
  + `Quality against the same resize as lossless PNG: SSIM on luma (8×8 uniform windows, stride 4), PSNR over RGB and over Cb/Cr.\n`);
for (const width of WIDTHS) {
  const r = ratios.find((x) => x.width === width)!;
  console.log(`### → ${width} px\n\n${header}`);
  for (const c of cases.filter((c) => c.width === width && c.group === 'format')) console.log(row(c));
  console.log(`\nAVIF/JPEG per round (back to back): CPU ${show(r.cpu)}, wall ${show(r.wall)}; target ≤ ${TARGET} (CPU): ${r.met ? 'met' : '**not met**'}\n`);
  if (ratiosOnly) continue;
  console.log(`AVIF candidates at q${ENCODERS.avif.quality}, and the previous default (× JPEG = median / the JPEG median above):\n\n${header}`);
  const grid = cases.filter((c) => c.width === width && c.format === 'avif' && c.group !== 'quality');
  grid.sort((a, b) => a.encoders.avif.effort - b.encoders.avif.effort || a.encoders.avif.chromaSubsampling.localeCompare(b.encoders.avif.chromaSubsampling)
    || a.encoders.avif.quality - b.encoders.avif.quality);
  for (const c of grid) console.log(row(c));
  console.log('');
}
if (!ratiosOnly) {
  console.log(`### AVIF quality sweep, 4:2:0 → 1200 px\n\n${header}`);
  const sweep = cases.filter((c) => c.width === 1200 && c.format === 'avif' && c.encoders.avif.effort <= 1 && c.encoders.avif.chromaSubsampling === '4:2:0');
  sweep.sort((a, b) => a.encoders.avif.effort - b.encoders.avif.effort || a.encoders.avif.quality - b.encoders.avif.quality);
  for (const c of sweep) console.log(row(c));
  console.log(`\n### Corpus photos as they are, chosen settings (${CORPUS})\n\n${corpusLines.join('\n')}`);
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
if (asJson) {
  const summary = Object.fromEntries(cases.map((c) => [c.key, {
    label: c.label, width: c.width, cpu_ms: Math.round(median(c.cpu)), wall_ms: Math.round(median(c.times)), runs: c.times.length, bytes: c.bytes, ...c.quality,
  }]));
  console.log(JSON.stringify({ source: source.what, rounds: ROUNDS, ratios, cases: summary }));
}
process.exit(ratios.find((r) => r.width === 1200)!.met ? 0 : 1);
