/**
 * Memory of the worst transform URLs (#17 acceptance, #17.1, #17.19): starts Pictor (embedded
 * defaults, rate limits off), uploads large generated sources (a 40 MP noise JPEG, the same
 * with an EXIF orientation that turns it, a 300-frame GIF), then fires the most expensive URLs
 * the limits still allow — rotation + pixelate + rounded corners at the output limit, pads with
 * a big background, trim, blur:2000, sharpen, every output format, the animation scaled up —
 * two at a time, every URL distinct (no cache hit). It samples the server's RSS from
 * /proc/<pid>/status every 20 ms and prints the peak against the stated bound (docs/TUNING.md,
 * "Memory of a render"), then the RSS once the load has ended (settled: after `--settle`
 * seconds idle, default 20).
 *
 * `--set=completing` fires eight rotated, pixelated, rounded 2500×2500 renders instead, which
 * finish within the timeout here, to see memory come back after work that completed.
 *
 * Usage: ./node_modules/.bin/bun bench/transform-memory.ts [--settle=20] [--rounds=1] [--set=worst|completing|issue24];
 * `SERVER_ENV='{"MALLOC_ARENA_MAX":"2"}'` adds settings to the server's environment.
 */
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { startServer } from '../test/helpers/server';
import { descendants, rssOf } from './lib/procs';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const SETTLE_S = Number(arg('settle', '20'));
const ROUNDS = Number(arg('rounds', '1'));
const SET = arg('set', 'worst');
const PARALLEL = 2;
const MAX_OUTPUT_PIXELS = 40_000_000;
const MAX_INPUT_PIXELS = 100_000_000;
const MiB = 1024 * 1024;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;

/** Noise: nothing for a decoder, a resampler or an encoder to shortcut. */
function noise(width: number, height: number): Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return sharp(data, { raw: { width, height, channels: 3 } });
}
type Sharp = ReturnType<typeof sharp>;

/** Distinct frames (identical ones would be merged by the encoder). */
async function gif(frames: number, size: number): Promise<Buffer> {
  const base = await noise(size, size).raw().toBuffer();
  const list = await Promise.all(Array.from({ length: frames }, (_, i) =>
    sharp(base, { raw: { width: size, height: size, channels: 3 } }).linear(1, (i * 7) % 64).png({ compressionLevel: 1 }).toBuffer()));
  return sharp(list, { join: { animated: true } }).gif({ delay: 40, loop: 0 }).toBuffer();
}

/** The worst URLs per source: each at (or just inside) a limit. `{q}` makes each round's URL distinct. */
const STILL = [
  'a_45,r_max,e_pixelate:2,w_4470,h_4470,c_scale,f_png,q_{q}',
  'a_30,e_blur:2000.pixelate:3,r_200,w_4600,h_4600,c_fill,f_webp,q_{q}',
  'w_6324,h_6324,c_pad,b_red,f_png,q_{q}',
  'w_6324,h_6324,c_lpad,b_blue,a_180,r_max,f_png,q_{q}',
  'e_trim.sharpen:2000,w_8000,h_5000,c_scale,f_jpg,q_{q}',
  'e_blur:2000,w_8000,h_5000,c_fill,f_avif,q_{q}',
  'a_7,e_pixelate:200.negate,w_6000,h_5000,c_scale,f_webp,q_{q}',
  'a_45,r_max,e_pixelate:2,w_6000,h_6000,c_scale,q_{q}', // the issue's URL: refused now
];
/** `--set=completing`: renders this machine finishes within the timeout, to see memory come back. */
const COMPLETING = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `a_${10 + i},r_max,e_pixelate:${2 + i},w_2500,h_2500,c_scale,f_webp,q_{q}`);
/**
 * `--set=issue24`: the #24 steps at the output limit — every adjustment with opacity, the
 * blurred fill of a 40 MP pad with padding and border, and a chain (one more raw frame held
 * between steps: the bound counts 4 frames for this set, docs/TUNING.md).
 */
const ISSUE24 = [
  'c_pad,w_6000,h_6000,b_blurred:2000,pd_100,bo_50px_solid_red,f_webp,q_{q}',
  'e_gamma:150.saturation:100.hue:-100.brightness:100.contrast:100.tint:100:blue.vignette:100,o_50,w_6000,h_6600,c_fill,f_png,q_{q}',
  'w_6000,h_6000,c_fill/e_vignette:100.brightness:20,pd_50,bo_20px_solid_black/o_60,f_webp,q_{q}',
  'pd_300,b_blurred:500,w_5800,h_5800,c_fill,e_hue:30,f_jpg,q_{q}',
];
const ANIMATED = ['w_577,h_577,c_scale,f_gif,q_{q}', 'w_577,h_577,c_scale,f_webp,q_{q}', 'w_1000,h_1000,c_scale,f_gif,q_{q}'];

const serverEnv = JSON.parse(process.env.SERVER_ENV ?? '{}') as Record<string, string>;
const srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', ...serverEnv }, timeoutMs: 60_000 });
const pid = srv.proc.pid as number;
const treeRss = () => [pid, ...descendants(pid)].reduce((sum, p) => sum + rssOf(p), 0);

try {
  const key = srv.bootstrap?.api_key ?? '';
  const upload = async (bytes: Buffer, type: string) => {
    const res = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': type }, body: new Uint8Array(bytes) });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { file: { id: string } }).file.id;
  };
  const big = noise(8000, 5000);
  const photo = await upload(await big.clone().jpeg({ quality: 85 }).toBuffer(), 'image/jpeg');
  // EXIF orientation 6 (turned 90°): the decoder cannot stream it.
  const turned = await upload(await noise(5000, 8000).jpeg({ quality: 85 }).withMetadata({ orientation: 6 }).toBuffer(), 'image/jpeg');
  const frames = Math.floor(MAX_INPUT_PIXELS / (577 * 577)); // the most frames of that size the input limit allows
  const animation = await upload(await gif(Math.min(300, frames), 577), 'image/gif');
  await Bun.sleep(5000); // eager derivatives of the uploads
  const baseline = treeRss();

  const urls: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const q = String(90 - round);
    if (SET === 'completing') {
      for (const t of COMPLETING) urls.push(`/t/${t.replace('{q}', q)}/${photo}`);
      continue;
    }
    if (SET === 'issue24') {
      for (const id of [photo, turned]) for (const t of ISSUE24) urls.push(`/t/${t.replace('{q}', q)}/${id}`);
      continue;
    }
    for (const id of [photo, turned]) for (const t of STILL) urls.push(`/t/${t.replace('{q}', q)}/${id}`);
    for (const t of ANIMATED) urls.push(`/t/${t.replace('{q}', q)}/${animation}`);
  }

  let peak = baseline;
  const sampler = setInterval(() => void (peak = Math.max(peak, treeRss())), 20);
  const statuses = new Map<number, number>();
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < urls.length) {
      const url = urls[next++] as string;
      const res = await fetch(`${srv.url}${url}`, { headers: { accept: 'image/avif,image/webp,*/*' } }).catch((err: unknown) => {
        const tail = srv.logs.slice(-5).map((l) => JSON.stringify(l).slice(0, 400)).join('\n');
        throw new Error(`${url}: ${String(err)}; server exit ${srv.proc.exitCode ?? srv.proc.signalCode ?? 'running'}; last log lines:\n${tail}`);
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (process.env.VERBOSE) console.log(res.status, url, mib(treeRss()));
    }
  }));
  clearInterval(sampler);
  peak = Math.max(peak, treeRss());
  const loadS = (performance.now() - started) / 1000;
  const ended = treeRss();
  await Bun.sleep(SETTLE_S * 1000);
  const settled = treeRss();

  // The stated bound (docs/TRANSFORMS.md, docs/TUNING.md): per render 3 frames of
  // MAX_OUTPUT_PIXELS × 4 bytes and one decoded source of MAX_INPUT_PIXELS × 4, at most
  // TRANSFORM_CONCURRENCY renders (an abandoned one keeps its slot until it has stopped), plus
  // the two byte-bounded caches.
  const perRender = (SET === 'issue24' ? 4 : 3) * MAX_OUTPUT_PIXELS * 4 + MAX_INPUT_PIXELS * 4;
  const renders = Number(serverEnv.TRANSFORM_CONCURRENCY ?? availableParallelism());
  const caches = Number(serverEnv.CACHE_MEMORY_BYTES ?? 256 * MiB) + Number(serverEnv.SOURCE_CACHE_BYTES ?? 64 * MiB);
  const bound = baseline + caches + renders * perRender;
  const codes = [...statuses].sort().map(([s, n]) => `${n}×${s}`).join(', ');
  console.log(`${urls.length} worst-case URLs, ${PARALLEL} at a time, ${loadS.toFixed(0)} s: ${codes}`);
  console.log(`server RSS: baseline ${mib(baseline)}, peak ${mib(peak)} (bound ${mib(bound)} = baseline + caches ${mib(caches)} + ${renders} × ${mib(perRender)}: ${peak <= bound ? 'within' : 'EXCEEDED'})`);
  console.log(`server RSS after the load: at once ${mib(ended)}, after ${SETTLE_S} s idle ${mib(settled)} (${mib(settled - baseline)} over baseline)`);
  if (Object.keys(serverEnv).length) console.log(`SERVER_ENV=${JSON.stringify(serverEnv)}`);
  if (peak > bound) process.exitCode = 1;
} finally {
  await srv.close();
}
