// Request-log overhead (issue #8 acceptance 4): the same authenticated API call against two
// servers of the same build, one with REQUEST_LOGS=true and one with REQUEST_LOGS=false, in
// alternating short rounds after a warm-up of each (rounds.js), so that other load on the machine falls on
// both alike; they never run at the same time. Prints both req/s and the ratio on/off.
// env: ON_URL, ON_KEY, OFF_URL, OFF_KEY, API_PATH (default /api/files?limit=10),
//      VUS (default 16), ROUNDS (default 4), SECONDS per round (default 3).
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { alternatingScenarios, measuring } from './rounds.js';

const vus = Number(__ENV.VUS || 16);
const rounds = Number(__ENV.ROUNDS || 4);
const seconds = Number(__ENV.SECONDS || 3);
const path = __ENV.API_PATH || '/api/files?limit=10';
const ok = { on: new Counter('ok_on'), off: new Counter('ok_off') };

const scenarios = alternatingScenarios('on', 'off', { vus, rounds, seconds });

export const options = { discardResponseBodies: true, scenarios, thresholds: { checks: ['rate==1'] } };

function call(side) {
  const res = http.get(`${__ENV[side === 'on' ? 'ON_URL' : 'OFF_URL']}${path}`, { headers: { 'x-api-key': __ENV[side === 'on' ? 'ON_KEY' : 'OFF_KEY'] } });
  if (check(res, { [`${side} 200`]: (r) => r.status === 200 }) && measuring()) ok[side].add(1);
}

export function on() {
  call('on');
}

export function off() {
  call('off');
}

export function handleSummary(data) {
  const count = (name) => (data.metrics[name] ? data.metrics[name].values.count : 0);
  const total = rounds * seconds;
  const on = count('ok_on') / total;
  const off = count('ok_off') / total;
  const result = {
    path,
    vus,
    rounds,
    seconds_per_round: seconds,
    logs_on_rps: Math.round(on),
    logs_off_rps: Math.round(off),
    ratio: off > 0 ? Math.round((on / off) * 1000) / 1000 : 0,
    checks_passed: data.metrics.checks ? data.metrics.checks.values.rate : 0,
  };
  return { stdout: `${JSON.stringify(result)}\n` };
}
