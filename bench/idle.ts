/**
 * What an idle server costs: starts Pictor on its embedded defaults, lets it settle, then reads
 * its CPU time per thread from /proc over `--seconds` (default 10) with no requests at all.
 * Timers (queue polls, counter flushes) and the runtime's own threads are all that run, and on
 * a busy server they are charged to every request as well (`bench/transform.sh` reports CPU per
 * request over the whole process).
 * Usage: ./node_modules/.bin/bun bench/idle.ts [--seconds=10]; `SERVER_ENV='{"QUEUE_POLL_MS":"250"}'`
 * adds settings to the server's environment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { startServer } from '../test/helpers/server';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 10);

/** CPU seconds per thread (`comm`, numbered when several share a name). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const close = stat.lastIndexOf(')');
    const base = stat.slice(stat.indexOf('(') + 1, close);
    let name = base;
    for (let i = 2; out.has(name); i++) name = `${base} ${i}`;
    const fields = stat.slice(close + 2).split(' ');
    out.set(name, (Number(fields[11]) + Number(fields[12])) / 100); // utime + stime, in ticks of 10 ms
  }
  return out;
}

const srv = await startServer({ env: JSON.parse(process.env.SERVER_ENV ?? '{}') as Record<string, string> });
try {
  await Bun.sleep(3000); // boot work (migrations, first timers) is not idle cost
  const before = threadCpu(srv.proc.pid!);
  await Bun.sleep(seconds * 1000);
  const after = threadCpu(srv.proc.pid!);
  let total = 0;
  const parts: string[] = [];
  for (const [name, secs] of after) {
    const used = secs - (before.get(name) ?? 0);
    total += used;
    if (used > 0) parts.push(`${name} ${((used / seconds) * 1000).toFixed(1)}`);
  }
  console.log(`idle server CPU over ${seconds} s: ${((total / seconds) * 1000).toFixed(1)} ms per second (${parts.join(', ')})`);
} finally {
  await srv.close();
}
