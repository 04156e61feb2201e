/**
 * Runs one k6 script and reduces its summary export to the figures the report needs.
 * k6 exits 99 when a threshold is crossed; that is recorded (the run goes on, the bench
 * exits non-zero at the end), never hidden.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './pictor';
import { runCommand } from './procs';

/** The k6 binary: K6_BIN, or the one scripts/ensure-tools.sh builds. */
export const K6_BIN = process.env.K6_BIN ?? join(process.env.PICTOR_TOOLS_DIR ?? join(homedir(), '.cache/pictor-tools'), 'bin/k6');

/** Builds k6 with `go install` when it is missing (cached under ~/.cache/pictor-tools). */
export async function ensureK6(): Promise<string> {
  if (process.env.K6_BIN) return K6_BIN;
  const r = await runCommand('bash', [join(ROOT, 'scripts/ensure-tools.sh'), 'k6'], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`could not build k6: ${r.stderr.trim()}`);
  return K6_BIN;
}

/** What one k6 run says, reduced to what the report shows. */
export interface LoadResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Responses outside 2xx/3xx that were not an intended 429/503 (connection errors count). */
  unexpected: number;
  /** Intended 429/503 answers (overload and limits doing their job). */
  rejected: number;
  mb_received_per_s: number;
  /** Open-model runs: arrivals k6 could not start because every VU was busy (the server fell behind). */
  dropped: number;
  /** Every threshold held. */
  thresholds_ok: boolean;
  /** Crossed thresholds, `metric: expression`. */
  crossed: string[];
  duration_s: number;
  /** What the script printed (scripts with a handleSummary report their own figures there). */
  stdout?: string;
}

type Metric = Record<string, number> & { thresholds?: Record<string, boolean> };

/**
 * Runs `bench/k6/<script>` with `env` (passed as `-e`), returns the reduced summary.
 * `thresholds` reach scripts that declare none of their own (the other issues' scripts, reused
 * as they are) through a k6 config file: script options win over it, so nothing is overridden.
 */
export async function runK6(script: string, env: Record<string, string | number | undefined>, thresholds?: Record<string, string[]>): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pictor-k6-'));
  const summary = join(dir, 'summary.json');
  // CLI flags beat script options: every script, reused ones included, reports p50/p95/p99.
  const args = ['run', '--quiet', '--no-color', '--summary-export', summary, '--summary-trend-stats', 'avg,min,med,p(90),p(95),p(99),max'];
  // Scripts that set neither get these; a script's own options win (k6 precedence).
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...(thresholds ? { thresholds } : {}), summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'] }));
  args.push('--config', join(dir, 'config.json'));
  for (const [k, v] of Object.entries(env)) if (v !== undefined) args.push('-e', `${k}=${v}`);
  args.push(join(ROOT, 'bench/k6', script));
  const t0 = performance.now();
  try {
    const r = await runCommand(K6_BIN, args, { cwd: ROOT, env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } });
    const duration_s = (performance.now() - t0) / 1000;
    if (r.code !== 0 && r.code !== 99) throw new Error(`k6 ${script} failed (${r.code}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
    const exported = JSON.parse(await readFile(summary, 'utf8')) as { metrics: Record<string, Metric>; root_group?: { checks?: Record<string, { name: string; fails: number }> } };
    const metrics = exported.metrics;
    const d = metrics.http_req_duration ?? ({} as Metric);
    const crossed: string[] = [];
    for (const [name, m] of Object.entries(metrics)) {
      for (const [expr, failed] of Object.entries(m.thresholds ?? {})) if (failed) crossed.push(`${name}: ${expr}`);
    }
    for (const c of Object.values(exported.root_group?.checks ?? {})) if (c.fails > 0) crossed.push(`check "${c.name}" failed ${c.fails}×`);
    const round = (n: number | undefined, p = 2) => Math.round((n ?? 0) * 10 ** p) / 10 ** p;
    return {
      requests: metrics.http_reqs?.count ?? 0,
      rps: round(metrics.http_reqs?.rate, 1),
      p50_ms: round(d.med ?? d['p(50)']),
      p95_ms: round(d['p(95)']),
      p99_ms: round(d['p(99)']),
      max_ms: round(d.max),
      // Our scripts count by status class; a reused script without that counter: failed requests + failed checks.
      unexpected: metrics.unexpected_status ? metrics.unexpected_status.count ?? 0 : (metrics.http_req_failed?.passes ?? 0) + (metrics.checks?.fails ?? 0),
      rejected: metrics.intended_rejections?.count ?? 0,
      dropped: metrics.dropped_iterations?.count ?? 0,
      mb_received_per_s: round((metrics.data_received?.rate ?? 0) / 1e6, 1),
      thresholds_ok: r.code === 0 && crossed.length === 0,
      crossed: crossed.length || r.code === 0 ? crossed : ['k6 exited 99'],
      duration_s: round(duration_s, 1),
      stdout: r.stdout.trim().split('\n').pop(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
