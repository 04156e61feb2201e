/**
 * The two per-request families (`pictor_http_requests_total` and the latency histogram), kept
 * outside prom-client's `Counter`/`Histogram` on purpose: those validate a label object and
 * build a hash string from it on every call, and every request pays for that (`bun
 * bench/micro.ts` part 5 times both recorders; `bench/transform.sh` reports the server's CPU
 * per memory-cache hit). Here a request is three `Map` lookups and a few number increments,
 * with no allocation once its series exists. prom-client still renders the families (same
 * names, labels, order and text: requests.test.ts compares against prom-client's own) through
 * the registry, which asks each registered metric for `get()` at scrape time.
 */
import type { Metric, Registry } from 'prom-client';

type Labels = { method: string; route: string; status: string };

/** One sample line, as prom-client's registry formats it (`metricName` defaults to the family name). */
export interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What prom-client's registry reads from a registered metric: `name`, `type` and `get()` (plus `reset()`). */
export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

interface Series {
  labels: Labels;
  count: number;
  /** Requests with a known start time: the histogram's `_count`. */
  observed: number;
  sum: number;
  /** Observations per bucket (not cumulative; summed at export). One more slot for +Inf. */
  buckets: Float64Array;
}

export interface RequestMetrics {
  /** Counts one finished request and its latency in seconds (undefined: counted, not timed). */
  record(method: string, route: string, status: number, seconds: number | undefined): void;
  /** `pictor_http_requests_total`. */
  requests: Family;
  /** `pictor_http_request_duration_seconds`. */
  duration: Family;
}

export function createRequestMetrics(registry: Registry, buckets: readonly number[]): RequestMetrics {
  // route → method → status → series, for the lookup; `all` in first-seen order, for export.
  const byRoute = new Map<string, Map<string, Map<number, Series>>>();
  const all: Series[] = [];

  function seriesOf(method: string, route: string, status: number): Series {
    let byMethod = byRoute.get(route);
    if (!byMethod) byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let s = byStatus.get(status);
    if (!s) {
      s = { labels: { method, route, status: String(status) }, count: 0, observed: 0, sum: 0, buckets: new Float64Array(buckets.length + 1) };
      byStatus.set(status, s);
      all.push(s);
    }
    return s;
  }

  function family(name: string, help: string, type: Family['type'], values: () => Sample[]): Family {
    return {
      name, help, type, aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset: () => {
        byRoute.clear();
        all.length = 0;
      },
    };
  }

  const requests = family('pictor_http_requests_total', 'HTTP requests by method, route template and status.', 'counter',
    () => all.map((s) => ({ labels: { ...s.labels }, value: s.count })));

  const duration = family('pictor_http_request_duration_seconds', 'HTTP request latency by method, route template and status.', 'histogram', () => {
    const name = 'pictor_http_request_duration_seconds';
    const values: Sample[] = [];
    for (const s of all) {
      if (s.observed === 0) continue;
      let cumulative = 0;
      for (let i = 0; i <= buckets.length; i++) {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: i < buckets.length ? buckets[i]! : '+Inf', ...s.labels }, value: cumulative });
      }
      values.push({ metricName: `${name}_sum`, labels: { ...s.labels }, value: s.sum });
      values.push({ metricName: `${name}_count`, labels: { ...s.labels }, value: s.observed });
    }
    return values;
  });

  // The registry calls only `name`, `type`, `get()` and `reset()` on what it holds; its `Metric`
  // type is the library's class, which these plain objects are not.
  registry.registerMetric(requests as unknown as Metric);
  registry.registerMetric(duration as unknown as Metric);

  return {
    record(method, route, status, seconds) {
      const s = seriesOf(method, route, status);
      s.count++;
      if (seconds === undefined) return;
      s.observed++;
      s.sum += seconds;
      // The first bucket whose bound is ≥ the value (prom-client's rule); past the last, +Inf.
      let i = 0;
      while (i < buckets.length && seconds > buckets[i]!) i++;
      s.buckets[i] = s.buckets[i]! + 1;
    },
    requests,
    duration,
  };
}
