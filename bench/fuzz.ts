/**
 * The fuzz test (test/foundation/fuzz.e2e.test.ts) for longer, listing every failure instead
 * of stopping at the first: `bun bench/fuzz.ts` (FUZZ_SECONDS, default 600; FUZZ_SEED to
 * replay). Prints requests sent, operations covered, statuses, failures grouped by problem
 * and route with one request that reproduces each, and leftovers. Exits 1 on any failure.
 */
import { runFuzz } from '../test/helpers/fuzz/run';

const seconds = Number(process.env.FUZZ_SECONDS ?? 600);
const report = await runFuzz({
  seconds,
  maxRuns: Number(process.env.FUZZ_RUNS ?? 1_000_000),
  seed: process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED),
  collect: true,
});
console.log(`seed ${report.seed}: ${report.requests} requests, ${report.covered}/${report.operations} operations answered, ${report.seconds.toFixed(0)} s`);
console.log(`statuses: ${Object.entries(report.byStatus).map(([s, n]) => `${s}×${n}`).join(' ')}`);
const groups = new Map<string, { n: number; request: string }>();
for (const f of report.failures) {
  // Group by the problem's first words and the request's method and path (ids cut off).
  const route = f.request.split(' ').slice(0, 2).join(' ').replace(/"([^"?]*).*/, '$1').slice(0, 60);
  const key = `${f.problem.slice(0, 70)} — ${route}`;
  const g = groups.get(key);
  if (g) g.n++;
  else groups.set(key, { n: 1, request: f.request });
}
console.log(`failures: ${report.failures.length}`);
for (const [key, g] of groups) console.log(`  ${g.n}× ${key}\n      e.g. ${g.request.slice(0, 400)}`);
console.log(`leftovers: ${report.leftovers.length}${report.leftovers.length ? `\n  ${report.leftovers.join('\n  ')}` : ''}`);
if (report.serverErrors.length) console.log(`server error log lines: ${report.serverErrors.length}\n  ${report.serverErrors.slice(0, 10).join('\n  ')}`);
if (report.counterexample) console.log(report.counterexample);
process.exit(report.failures.length || report.leftovers.length || report.counterexample ? 1 : 0);
