/**
 * A transcode's progress from ffmpeg's `-progress pipe:1` stream: blocks of `key=value` lines,
 * `out_time_us` the position written so far (microseconds, despite `out_time_ms`'s name on some
 * builds, which also carries microseconds), `frame` the pictures written so far. Chunks may
 * split lines anywhere.
 */
export function progressReader(durationS: number, onFraction: (fraction: number) => void, onFrames?: (frames: number) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    const text = rest + chunk.toString('latin1');
    const end = text.lastIndexOf('\n');
    rest = text.slice(end + 1).slice(-256); // a partial line, bounded (progress lines are short)
    if (end < 0) return;
    const lines = text.slice(0, end);
    const frames = [...lines.matchAll(/^frame=(\d+)$/gm)].at(-1);
    if (frames) onFrames?.(Number(frames[1]));
    if (durationS <= 0) return;
    const last = [...lines.matchAll(/^out_time_(?:us|ms)=(\d+)$/gm)].at(-1);
    if (last) onFraction(Math.min(1, Number(last[1]) / 1e6 / durationS));
  };
}

/**
 * Calls `report(percent)` from `start` to `end` as the fraction grows, at most once per `everyMs`
 * and only for a gain of a point or more: each report is a database write.
 */
export function throttledPercent(start: number, end: number, everyMs: number, report: (percent: number) => void, now = () => Date.now()): (fraction: number) => void {
  let sent = start;
  let at = 0;
  return (fraction) => {
    const percent = Math.floor(start + (end - start) * fraction);
    if (percent <= sent || now() - at < everyMs) return;
    sent = percent;
    at = now();
    report(percent);
  };
}
