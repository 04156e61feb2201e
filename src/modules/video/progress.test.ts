import { expect, test } from 'bun:test';
import { progressReader, throttledPercent } from './progress';

test('progressReader: the last out_time of each complete block, across split chunks, as a fraction of the duration', () => {
  const seen: number[] = [];
  const read = progressReader(10, (f) => seen.push(f));
  read(Buffer.from('frame=10\nout_time_us=2000000\nout_time_ms=2000000\nprogress=continue\nframe=20\nout_time_us=40'));
  read(Buffer.from('00000\nprogress=continue\n'));
  read(Buffer.from('out_time_us=12000000\nprogress=end\n'));
  read(Buffer.from('no newline yet'));
  expect(seen).toEqual([0.2, 0.4, 1]);
});

test('progressReader: the frames written so far, also for a duration of 0 (a rendition with no picture writes frame=0)', () => {
  const frames: number[] = [];
  const read = progressReader(0, () => { throw new Error('no fraction of nothing'); }, (n) => frames.push(n));
  read(Buffer.from('frame=0\nout_time_us=0\nprogress=continue\nfra'));
  read(Buffer.from('me=0\nprogress=end\n'));
  expect(frames).toEqual([0, 0]);
});

test('throttledPercent: maps into its range, only upward, at most once per interval', () => {
  let clock = 0;
  const sent: number[] = [];
  const step = throttledPercent(5, 95, 1000, (p) => sent.push(p), () => clock);
  clock = 1000;
  step(0.5); // 50
  step(0.6); // too soon
  clock = 2500;
  step(0.4); // not upward
  step(0.9); // 86
  clock = 4000;
  step(1); // 95
  expect(sent).toEqual([50, 86, 95]);
});
