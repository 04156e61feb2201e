// Cold transforms: iteration i requests URLS[i] (a JSON list of distinct URLs), so every request
// is a real render. Shared iterations over VUS (= the transform concurrency).
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';

const urls = JSON.parse(open(__ENV.URLS_FILE));

export const options = {
  scenarios: {
    cold: { executor: 'shared-iterations', vus: Number(__ENV.VUS || 2), iterations: urls.length, maxDuration: '10m' },
  },
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const res = http.get(urls[exec.scenario.iterationInTest]);
  check(res, { 'status 200': (r) => r.status === 200, 'cold (X-Cache MISS)': (r) => r.headers['X-Cache'] === 'MISS' });
}
