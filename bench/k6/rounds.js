// Alternating measured rounds for comparing two endpoints (or two servers) in one k6 run.
// Each side first gets an unmeasured warm-up round (k6's own start, new connections and the
// server's JIT would otherwise fall on whichever side goes first: an A/A run of bench/logs.sh
// without it showed the first side 4–6 % slower with identical servers). Then `rounds` rounds,
// the order flipping every round, never both at once.
import exec from 'k6/execution';

/** Scenarios `warm_<a>`, `warm_<b>`, then `<a>_<r>`/`<b>_<r>`; each runs the exported function named after its side. */
export function alternatingScenarios(a, b, { vus, rounds, seconds, warmSeconds = 2, gap = 1 }) {
  const scenarios = {};
  let start = 0;
  const add = (name, side, duration) => {
    scenarios[name] = { executor: 'constant-vus', vus, duration: `${duration}s`, startTime: `${start}s`, exec: side, gracefulStop: '0s' };
    start += duration + gap;
  };
  add(`warm_${a}`, a, warmSeconds);
  add(`warm_${b}`, b, warmSeconds);
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? [a, b] : [b, a]) add(`${side}_${r}`, side, seconds);
  }
  return scenarios;
}

/** False during a warm-up round: its requests are not counted. */
export const measuring = () => !exec.scenario.name.startsWith('warm_');
