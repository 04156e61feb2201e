// Auth hot path (issue #3 acceptance 8): API-key `GET /api/profile` against unauthenticated
// `/health`, same server, same run, same connections; the two scenarios run one after the
// other so neither steals CPU from the other. Prints both req/s and their ratio.
// env: BASE_URL, API_KEY, VUS (default 16), DURATION seconds per scenario (default 10).
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';

const vus = Number(__ENV.VUS || 16);
const seconds = Number(__ENV.DURATION || 10);
const gap = 2;
const ok = { health: new Counter('ok_health'), profile: new Counter('ok_profile') };

export const options = {
  discardResponseBodies: true,
  scenarios: {
    health: { executor: 'constant-vus', vus, duration: `${seconds}s`, exec: 'health' },
    profile: { executor: 'constant-vus', vus, duration: `${seconds}s`, startTime: `${seconds + gap}s`, exec: 'profile' },
  },
  thresholds: { checks: ['rate==1'] },
};

const apiKey = { headers: { 'x-api-key': __ENV.API_KEY } };

export function health() {
  const res = http.get(`${__ENV.BASE_URL}/health`);
  if (check(res, { 'health 200': (r) => r.status === 200 })) ok.health.add(1);
}

export function profile() {
  const res = http.get(`${__ENV.BASE_URL}/api/profile`, apiKey);
  if (check(res, { 'profile 200': (r) => r.status === 200 })) ok.profile.add(1);
}

export function handleSummary(data) {
  const count = (name) => (data.metrics[name] ? data.metrics[name].values.count : 0);
  const health = count('ok_health') / seconds;
  const profile = count('ok_profile') / seconds;
  const result = {
    vus,
    seconds_per_scenario: seconds,
    health_rps: Math.round(health),
    profile_rps: Math.round(profile),
    ratio: health > 0 ? Math.round((profile / health) * 1000) / 1000 : 0,
    checks_passed: data.metrics.checks ? data.metrics.checks.values.rate : 0,
  };
  return { stdout: `${JSON.stringify(result)}\n` };
}
