/**
 * A rendition's progress as the bundled ffmpeg reports it: `-progress pipe:1` read while the
 * transcode runs (jobs.ts turns it into the job's progress, which went from 5 % to 100 % at once).
 */
import { expect, test } from 'bun:test';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runProcess } from '../../src/platform/child-process';
import { parseTransformation } from '../../src/modules/transform/parse';
import { renditionArgs } from '../../src/modules/video/geometry';
import { probeVideo } from '../../src/modules/video/probe';
import { progressReader } from '../../src/modules/video/progress';
import { FFMPEG, FFPROBE, h264Mp4, tempFile } from '../helpers/videos';

test('the bundled ffmpeg reports out_time while it transcodes; the reader turns it into a rising fraction that ends at 1', async () => {
  const source = await tempFile(await h264Mp4(), 'mp4');
  try {
    const probed = await probeVideo(FFPROBE, source.path, 30_000);
    if (!probed.ok) throw new Error(probed.reason);
    const options = parseTransformation('w_320', undefined, { maxDimension: 8192, maxOutputPixels: 40_000_000 }, new Map()).options;
    const out = join(source.path, '..', 'out.mp4');
    const plan = renditionArgs(source.path, out, probed.info, options, 'mp4', 64 * 1024 * 1024);
    const fractions: number[] = [];
    const run = await runProcess(FFMPEG, plan.args, { timeoutMs: 60_000, maxStdoutBytes: 1024, onStdout: progressReader(plan.duration, (f) => fractions.push(f)) });
    expect([run.code, run.killed]).toEqual([0, undefined]);
    expect((await stat(out)).size).toBeGreaterThan(0);
    expect(fractions.length).toBeGreaterThan(0);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
    expect(fractions.at(-1)).toBeGreaterThan(0.95);
  } finally {
    await source.done();
  }
});
