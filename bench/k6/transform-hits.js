// Constant-VU GET load on one URL (TARGET_URL); 64 connections by default. Used by bench/transform.ts
// for Pictor memory hits and the nginx / Bun.serve baselines on the same bytes.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: Number(__ENV.VUS || 64),
  duration: __ENV.DURATION || '10s',
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
};

export default function () {
  const res = http.get(__ENV.TARGET_URL, { headers: { accept: 'image/webp' } });
  check(res, { 'status 200': (r) => r.status === 200 });
}
