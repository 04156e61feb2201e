/**
 * Video bench (#23 acceptance 4): on this machine, in one run,
 *
 * 1. poster frames: cold renders/s of `/t/so_<t>,w_320,f_jpg/<id>` (every URL a new `so`, so
 *    every one a cache miss) against ffmpeg extracting the same frames directly with the same
 *    arguments (`posterArgs`), one after the other;
 * 2. transcode: a 720p H.264/AAC clip to a 360p MP4 rendition (`/t/w_640/<id>.mp4`, from the
 *    first request to the 200) against ffmpeg run directly with the same arguments
 *    (`renditionArgs`), as × real time, and the ratio Pictor / direct (target ≥ 0.9).
 *
 * Run: `bun bench/video.ts` (SECONDS=10 POSTERS=20 to change the clip length and poster count).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../test/helpers/server';
import { ffmpegOut, FFMPEG, makeVideo } from '../test/helpers/videos';
import { parseTransformation } from '../src/modules/transform/parse';
import { renditionArgs } from '../src/modules/video/geometry';
import { posterArgs } from '../src/modules/video/poster';
import { probeVideo } from '../src/modules/video/probe';
import { FFPROBE } from '../test/helpers/videos';
import { runProcess } from '../src/platform/child-process';

const SECONDS = Number(process.env.SECONDS ?? 10);
const POSTERS = Number(process.env.POSTERS ?? 20);

const clip = await makeVideo('mp4', (out) => ['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
  '-f', 'lavfi', '-i', `sine=frequency=440:duration=${SECONDS}`, '-c:v', 'libx264', '-preset', 'fast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out]);
const dir = await mkdtemp(join(tmpdir(), 'pictor-bench-video-'));
const input = join(dir, 'in.mp4');
await writeFile(input, clip);
const probed = await probeVideo(FFPROBE, input, 30_000);
if (!probed.ok) throw new Error(probed.reason);
const info = probed.info;
const times = Array.from({ length: POSTERS }, (_, i) => Math.round(((i + 0.5) * (info.duration_s - 0.2) / POSTERS) * 1000) / 1000);

const srv = await startServer({ env: { DISABLE_RATE_LIMIT: 'true', TRANSFORM_TIMEOUT_MS: '60000' } });
try {
  const key = srv.bootstrap!.api_key;
  const up = await fetch(`${srv.url}/api/files`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'video/mp4' }, body: new Uint8Array(clip) });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
  const id = ((await up.json()) as { file: { id: string } }).file.id;

  // 1. Posters. Direct: ffmpeg alone (the frame as PNG, what Pictor feeds sharp).
  let t0 = performance.now();
  for (const at of times) await ffmpegOut(posterArgs(input, at).slice(1));
  const directPosterS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  for (const at of times) {
    const res = await fetch(`${srv.url}/t/so_${at},w_320,f_jpg/${id}`);
    if (res.status !== 200 || res.headers.get('x-cache') !== 'MISS') throw new Error(`poster ${at}: ${res.status} ${res.headers.get('x-cache')}`);
    await res.arrayBuffer();
  }
  const pictorPosterS = (performance.now() - t0) / 1000;

  // 2. Transcode 720p → 360p. Direct: the same argument list Pictor's job builds.
  const limits = { maxDimension: 8192, maxOutputPixels: 40_000_000 };
  const options = parseTransformation('w_640', undefined, limits, new Map()).options;
  const plan = renditionArgs(input, join(dir, 'out.mp4'), info, options, 'mp4', 512 * 1024 * 1024);
  // The machine is shared: direct runs before and after Pictor's, the faster one counts.
  const runDirect = async () => {
    const t = performance.now();
    const direct = await runProcess(FFMPEG, plan.args, { timeoutMs: 600_000, maxStdoutBytes: 1 << 20 });
    if (direct.code !== 0) throw new Error(direct.stderr);
    return (performance.now() - t) / 1000;
  };
  const directBefore = await runDirect();
  let directAfter = Infinity;
  /**
   * One rendition: the job's own run time (started_at → finished_at, what "transcode speed"
   * means) and the wall time from the first request to the 200. Polled every 250 ms, as a
   * client honouring Retry-After would rather less often: polling every few ms spent the
   * server's CPU (each 202 looks the job up) beside ffmpeg on these two cores.
   * `so_0` names a second variant with the very same ffmpeg arguments.
   */
  type JobRow = { id: string; started_at: string | null; finished_at: string | null; status: string };
  const renderJobs = async (): Promise<JobRow[]> => {
    const res = await fetch(`${srv.url}/api/queue/jobs?type=video_render&limit=50`, { headers: { 'x-api-key': key } });
    return ((await res.json()) as { results: JobRow[] }).results;
  };
  const runPictor = async (segment: string) => {
    const before = new Set((await renderJobs()).map((j) => j.id));
    const t = performance.now();
    for (;;) {
      const res = await fetch(`${srv.url}/t/${segment}/${id}.mp4`, { method: 'GET' });
      if (res.status === 200) {
        await res.body?.cancel();
        break;
      }
      if (res.status !== 202) throw new Error(`rendition: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      await Bun.sleep(250);
    }
    const wall = (performance.now() - t) / 1000;
    const job = (await renderJobs()).find((j) => !before.has(j.id) && j.status === 'completed');
    if (!job?.started_at || !job.finished_at) throw new Error(`no completed video_render job for ${segment}`);
    return { job: (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000, wall };
  };
  // Best of two on both sides, interleaved: the machine is shared.
  const first = await runPictor('w_640');
  directAfter = await runDirect();
  const second = await runPictor('so_0,w_640');
  const pictorS = Math.min(first.job, second.job);
  const pictorWallS = Math.min(first.wall, second.wall);
  const directS = Math.min(directBefore, directAfter);

  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`clip: ${info.width}x${info.height} ${info.fps} fps ${info.duration_s} s ${info.video_codec}/${info.audio_codec}; posters: ${POSTERS}`);
  console.log(`poster frames  direct ffmpeg: ${f(POSTERS / directPosterS)} /s   pictor cold (ffmpeg + sharp w_320 jpg + cache): ${f(POSTERS / pictorPosterS)} /s   ratio ${f(directPosterS / pictorPosterS)}`);
  console.log(`720p→${plan.size.width}x${plan.size.height} mp4  direct ffmpeg: ${f(info.duration_s / directS)}× real time (${f(directS)} s)   pictor job: ${f(info.duration_s / pictorS)}× real time (${f(pictorS)} s)   ratio ${f(directS / pictorS)}`);
  console.log(`  request → 200 (queue pickup and 250 ms polling included): ${f(pictorWallS)} s, ${f(info.duration_s / pictorWallS)}× real time, ratio ${f(directS / pictorWallS)}`);
} finally {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
}
