// Auth hot path (issue #3 acceptance 8): API-key `GET /api/profile` against unauthenticated
// `/health`, same server, same run, same connection count, in alternating rounds after a
// warm-up of each (rounds.js), so that load from anything else on the machine falls on both
// alike; they never run at the same time. Prints both req/s and the ratio.
// env: BASE_URL, API_KEY, VUS (default 16), ROUNDS (default 4), SECONDS per round (default 3).
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { alternatingScenarios, measuring } from './rounds.js';

const vus = Number(__ENV.VUS || 16);
const rounds = Number(__ENV.ROUNDS || 4);
const seconds = Number(__ENV.SECONDS || 3);
const ok = { health: new Counter('ok_health'), profile: new Counter('ok_profile') };

const scenarios = alternatingScenarios('health', 'profile', { vus, rounds, seconds });

export const options = { discardResponseBodies: true, scenarios, thresholds: { checks: ['rate==1'] } };

const apiKey = { headers: { 'x-api-key': __ENV.API_KEY } };

export function health() {
  const res = http.get(`${__ENV.BASE_URL}/health`);
  if (check(res, { 'health 200': (r) => r.status === 200 }) && measuring()) ok.health.add(1);
}

export function profile() {
  const res = http.get(`${__ENV.BASE_URL}/api/profile`, apiKey);
  if (check(res, { 'profile 200': (r) => r.status === 200 }) && measuring()) ok.profile.add(1);
}

export function handleSummary(data) {
  const count = (name) => (data.metrics[name] ? data.metrics[name].values.count : 0);
  const total = rounds * seconds;
  const health = count('ok_health') / total;
  const profile = count('ok_profile') / total;
  const result = {
    vus,
    rounds,
    seconds_per_round: seconds,
    health_rps: Math.round(health),
    profile_rps: Math.round(profile),
    ratio: health > 0 ? Math.round((profile / health) * 1000) / 1000 : 0,
    checks_passed: data.metrics.checks ? data.metrics.checks.values.rate : 0,
  };
  return { stdout: `${JSON.stringify(result)}\n` };
}
