/**
 * Figures from the other issues' own benches, run as they are and folded into the report:
 * the queue's in-process throughput (`bench/queue.ts`, its own fresh database and its own
 * INSERT baseline) and the request-log cost (`REQUEST_LOGS=false` vs the main server, measured
 * with the auth issue's `k6/auth.js`), and the output encoders' cold renders of an 18 MP photo
 * (`bench/formats.ts`, in its own process).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { record, unavailable, type Ctx } from './context';
import { startPictor, ROOT } from './pictor';
import { runCommand } from './procs';
import { runApiKeyAuth } from './work';

/** The queue issue's bench: enqueue → claim → complete of no-op jobs vs plain INSERTs. */
export async function runQueueBench(ctx: Ctx): Promise<void> {
  if (!existsSync(join(ROOT, 'bench/queue.ts'))) return unavailable(ctx, 'queue', 'scenario', 'job queue', 'bench/queue.ts is not there yet');
  const jobs = ctx.s.quick ? 1000 : 5000;
  await record(ctx, 'queue', 'scenario', `job queue: ${jobs} no-op jobs end to end (queue.ts)`, null, async () => {
    const r = await runCommand(process.execPath, [join(ROOT, 'bench/queue.ts'), '--jobs', String(jobs), '--batch', '1', '--producers', '8', '--concurrency', '16'], { cwd: ROOT });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`queue.ts exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    const j = JSON.parse(line) as Record<string, unknown>;
    const extra: Record<string, number> = {};
    for (const k of ['jobs_per_s', 'baseline_inserts_per_s', 'ratio_to_baseline', 'total_ms']) if (typeof j[k] === 'number') extra[k] = j[k];
    return { extra };
  });
}

/** REQUEST_LOGS=false on the main configuration, API-key `/api/profile` through auth.js. */
export async function runRequestLogsVariant(ctx: Ctx, env: Record<string, string>): Promise<void> {
  const p = await startPictor({ ...env, REQUEST_LOGS: 'false' }).catch((err: Error) => err);
  if (p instanceof Error) return unavailable(ctx, 'api_key_auth_logs_off', 'variant', 'REQUEST_LOGS=false', p.message);
  try {
    await runApiKeyAuth(ctx, p, 'api_key_auth_logs_off', { REQUEST_LOGS: 'false' });
  } finally {
    await p.stop();
  }
}

/**
 * `bench/formats.ts`: cold renders of an 18 MP photo to 1200 and 400 px in JPEG, WebP and AVIF
 * through the pipeline; the AVIF/JPEG CPU ratio per round. Quick runs skip the candidate grid.
 */
export async function runFormatsBench(ctx: Ctx): Promise<void> {
  const args = [join(ROOT, 'bench/formats.ts'), '--json', ...(ctx.s.quick ? ['--quick', '--ratios-only'] : [])];
  await record(ctx, 'cold_formats', 'scenario', 'cold renders of an 18 MP photo per output format (formats.ts)', null, async () => {
    const r = await runCommand(process.execPath, args, { cwd: ROOT });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    // Exit 1 only says the target was missed; the figures are still there.
    if (!line.startsWith('{')) throw new Error(`formats.ts exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    const j = JSON.parse(line) as {
      ratios: { width: number; cpu: { median: number }; wall: { median: number } }[];
      cases: Record<string, { width: number; label: string; cpu_ms: number; bytes?: number }>;
    };
    const extra: Record<string, number> = {};
    for (const x of j.ratios) {
      extra[`avif_jpeg_cpu_${x.width}`] = x.cpu.median;
      extra[`avif_jpeg_wall_${x.width}`] = x.wall.median;
    }
    for (const [key, c] of Object.entries(j.cases)) {
      const format = key.split(':')[0];
      if (!c.label.startsWith('JPEG') && !c.label.startsWith('WebP') && !c.label.endsWith('(chosen)')) continue;
      extra[`${format}_cpu_ms_${c.width}`] = c.cpu_ms;
      if (c.bytes !== undefined) extra[`${format}_kib_${c.width}`] = Math.round(c.bytes / 102.4) / 10;
    }
    return { extra };
  });
}

/**
 * `bench/startup.ts`: first `/health` 200 on a fresh DATA_DIR and on a restart (embedded
 * defaults: PGlite, no Redis), and the idle RSS of the restarted server; medians of its rounds.
 */
export async function runStartupBench(ctx: Ctx): Promise<void> {
  const rounds = ctx.s.quick ? 2 : 3;
  await record(ctx, 'startup', 'scenario', `start-up on embedded defaults, median of ${rounds} rounds (startup.ts)`, null, async () => {
    const r = await runCommand(process.execPath, [join(ROOT, 'bench/startup.ts'), `--rounds=${rounds}`, '--json'], { cwd: ROOT });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`startup.ts exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`);
    const j = JSON.parse(line) as { fresh_ms: number; restart_ms: number; idle_rss_mib: number };
    return { extra: { fresh_ms: j.fresh_ms, restart_ms: j.restart_ms, idle_rss_mib: j.idle_rss_mib } };
  });
}
