// Acceptance 7 of the limiter issue: GET one cache-hit URL as fast as possible.
// env: URL, VUS, DURATION. The runner (bench/limits.ts) calls it once per variant.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: Number(__ENV.VUS || 16),
  duration: __ENV.DURATION || '10s',
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const res = http.get(__ENV.URL);
  check(res, { 'status 200': (r) => r.status === 200 });
}
