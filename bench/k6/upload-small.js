// Small-file uploads per second: 200 KB multipart POSTs to /api/files from 8 virtual users for 15 s.
// Run by bench/upload.sh (BASE_URL, API_KEY set by the runner). Loopback only.
import http from 'k6/http';
import { check } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:3000';
const API_KEY = __ENV.API_KEY;
const payload = 'a'.repeat(200 * 1024);

export const options = {
  vus: Number(__ENV.VUS || 8),
  duration: __ENV.DURATION || '15s',
  thresholds: { checks: ['rate>0.99'] },
  summaryTrendStats: ['avg', 'p(95)', 'p(99)'],
};

export default function () {
  const res = http.post(`${BASE_URL}/api/files`, { file: http.file(payload, 'small.txt', 'text/plain') }, {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  check(res, { 'status is 201': (r) => r.status === 201 });
}

export function handleSummary(data) {
  const n = data.metrics.http_reqs.values;
  const d = data.metrics.http_req_duration.values;
  return {
    stdout: `small uploads (200 KB multipart): ${n.rate.toFixed(1)} uploads/s, ${n.count} total, p95 ${d['p(95)'].toFixed(1)} ms, checks ${(data.metrics.checks.values.rate * 100).toFixed(1)} %\n`,
  };
}
