/**
 * What an idle server costs: starts Pictor on its embedded defaults, lets it settle, then reads
 * its CPU time per thread from /proc over `--seconds` (default 10) with no requests at all.
 * Timers (queue polls, counter flushes) and the runtime's own threads are all that run, and on
 * a busy server they are charged to every request as well (`bench/transform.sh` reports CPU per
 * request over the whole process).
 * Usage: ./node_modules/.bin/bun bench/idle.ts [--seconds=10]; `SERVER_ENV='{"QUEUE_POLL_MS":"250"}'`
 * adds settings to the server's environment.
 */
import { startServer } from '../test/helpers/server';
import { threadCpu, threadCpuBetween } from './lib/procs';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 10);

const srv = await startServer({ env: JSON.parse(process.env.SERVER_ENV ?? '{}') as Record<string, string> });
try {
  await Bun.sleep(3000); // boot work (migrations, first timers) is not idle cost
  const before = threadCpu(srv.proc.pid!);
  await Bun.sleep(seconds * 1000);
  const after = threadCpu(srv.proc.pid!);
  const used = threadCpuBetween(before, after);
  const total = used.reduce((sum, [, secs]) => sum + secs, 0);
  const parts = used.map(([name, secs]) => `${name} ${((secs / seconds) * 1000).toFixed(1)}`);
  console.log(`idle server CPU over ${seconds} s: ${((total / seconds) * 1000).toFixed(1)} ms per second (${parts.join(', ')})`);
} finally {
  await srv.close();
}
