// Shared k6 pieces: scenario shape and thresholds from the environment the orchestrator sets,
// and a status classifier so "only 2xx/3xx, plus intended 429/503" is a threshold, not a hope.
import { Counter } from 'k6/metrics';
import exec from 'k6/execution';

export const unexpectedStatus = new Counter('unexpected_status');
export const intendedRejections = new Counter('intended_rejections');

const allowed = (__ENV.ALLOW_STATUS || '').split(',').filter(Boolean).map(Number);

/** Counts a response: 2xx/3xx fine, listed statuses (429/503) intended, anything else unexpected. */
export function classify(res) {
  if (res.status >= 200 && res.status < 400) return true;
  if (allowed.includes(res.status)) {
    intendedRejections.add(1);
    return true;
  }
  unexpectedStatus.add(1, { status: String(res.status) });
  if (__ENV.LOG_ERRORS && Math.random() < 0.05) console.warn(`status ${res.status} ${res.url} ${String(res.body).slice(0, 200)}`);
  return false;
}

/**
 * `constant-vus` for a duration (closed model: throughput), `shared-iterations` when ITERATIONS
 * is set (cold work: each item once), or `constant-arrival-rate` when RATE is set (open model:
 * traffic arrives whether or not earlier requests finished, as at a CDN origin).
 */
export function buildOptions(extraThresholds = {}) {
  const vus = Number(__ENV.VUS || 8);
  const duration = __ENV.DURATION || '5s';
  const scenario = __ENV.ITERATIONS
    ? { executor: 'shared-iterations', vus, iterations: Number(__ENV.ITERATIONS), maxDuration: __ENV.MAX_DURATION || '120s' }
    : __ENV.RATE
      ? { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s', duration, preAllocatedVUs: vus, maxVUs: vus * 8, gracefulStop: '5s' }
      : { executor: 'constant-vus', vus, duration };
  const thresholds = { unexpected_status: ['count==0'], ...extraThresholds };
  const latency = [];
  if (__ENV.P95_MS) latency.push(`p(95)<${__ENV.P95_MS}`);
  if (__ENV.P99_MS) latency.push(`p(99)<${__ENV.P99_MS}`);
  if (latency.length) thresholds.http_req_duration = latency;
  return {
    scenarios: { main: scenario },
    thresholds,
    discardResponseBodies: __ENV.KEEP_BODIES !== '1',
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  };
}

/** The index of this iteration across all VUs (unique in shared-iterations). */
export function iterationIndex() {
  return exec.scenario.iterationInTest;
}
