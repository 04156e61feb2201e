/**
 * The per-request families (requests.ts) print exactly what prom-client's own `Counter` and
 * `Histogram` print for the same observations: prom-client is the reference here.
 */
import { describe, expect, test } from 'bun:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { createRequestMetrics } from './requests';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const labelNames = ['method', 'route', 'status'] as const;

function reference() {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ name: 'pictor_http_requests_total', help: 'HTTP requests by method, route template and status.', labelNames, registers });
  const duration = new Histogram({
    name: 'pictor_http_request_duration_seconds', help: 'HTTP request latency by method, route template and status.', labelNames, buckets: BUCKETS, registers,
  });
  return {
    registry,
    record(method: string, route: string, status: number, seconds: number | undefined) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      if (seconds !== undefined) duration.observe(labels, seconds);
    },
  };
}

describe('request metrics', () => {
  test('the exposition text equals prom-client’s for the same requests (bucket edges, +Inf, untimed, escaping)', async () => {
    const ref = reference();
    const registry = new Registry();
    const ours = createRequestMetrics(registry, BUCKETS);
    const requests: [string, string, number, number | undefined][] = [
      ['GET', '/t/:transformations/:file', 200, 0.0004],
      ['GET', '/t/:transformations/:file', 200, 0.001], // exactly on a bound: counted in that bucket
      ['GET', '/t/:transformations/:file', 304, 0.02],
      ['HEAD', '/t/:transformations/:file', 200, 5], // past the last bound: +Inf only
      ['POST', '/api/files', 201, 0.5],
      ['GET', 'unmatched', 404, 0.0001],
      ['GET', 'a "quoted\\ route\nname"', 200, 0.05], // label escaping stays prom-client's
      ['GET', '/api/files', 200, undefined], // counted, not timed
    ];
    for (const r of requests) {
      ref.record(...r);
      ours.record(...r);
    }
    expect(await registry.metrics()).toBe(await ref.registry.metrics());
  });

  test('counts through `requests.get()`, and reset empties both families', async () => {
    const registry = new Registry();
    const ours = createRequestMetrics(registry, BUCKETS);
    for (let i = 0; i < 3; i++) ours.record('GET', '/health', 200, 0.0002);
    const values = (await ours.requests.get()).values;
    expect(values).toEqual([{ labels: { method: 'GET', route: '/health', status: '200' }, value: 3 }]);
    registry.resetMetrics();
    expect((await ours.requests.get()).values).toEqual([]);
    expect((await ours.duration.get()).values).toEqual([]);
  });
});
