/**
 * `deps.metrics`: one prom-client registry per app (never the library's global one, so two
 * apps in one test process do not mix) and the metric families every module feeds.
 *
 * Push-style families are incremented where the event happens (`metrics.httpRequests`,
 * `metrics.transformDuration`, …); state that another module already keeps (cache tiers,
 * transform pool, limiter fallbacks, job counts, DB connections) is read at scrape time by
 * collectors added with `addCollector`, so the hot paths pay nothing for it.
 *
 * prom-client runs unchanged on Bun and Deno; its `collectDefaultMetrics` is not used: on Bun
 * the event-loop-lag gauges print `Nan` (no `monitorEventLoopDelay`), which strict parsers
 * reject; the few process gauges we want are collected here instead.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RateLimiter } from '../limits/types';
import { createRequestMetrics } from './requests';

/** Seconds; spans a cache hit (sub-millisecond) to a slow upload or render. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TRANSFORM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Collector = () => Promise<void> | void;

/**
 * Sets a counter to a total another module keeps (collectors run at scrape time). Such totals
 * only grow, so the family keeps counter semantics for `rate()`.
 */
export function setCounterTotal<L extends string>(counter: Counter<L>, value: number, labels?: Partial<Record<L, string>>): void {
  if (labels) counter.remove(labels);
  else counter.reset();
  if (labels) counter.inc(labels, value);
  else counter.inc(value);
}

export interface MetricsOptions {
  /**
   * Which server process of a `WORKERS=N` host this is (0 for a single process). Every series
   * carries it as `worker="…"`: the processes share one port, so a scrape lands on any one of
   * them, and without the label their counters would look like one counter jumping about.
   */
  worker?: number;
}

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker: String(opts.worker ?? 0) });
  const registers = [registry];
  const collectors: Collector[] = [];

  const m = {
    registry,
    /** Requests and their latency by method, route template and status (requests.ts: no prom-client call per request). */
    http: createRequestMetrics(registry, LATENCY_BUCKETS),
    /** Requests whose client disconnected before the answer (also counted as status 499 in `http`). */
    clientAborts: new Counter({
      name: 'pictor_http_client_aborts_total', help: 'Requests abandoned by their client before the answer (recorded with status 499), by route template.',
      labelNames: ['route'] as const, registers,
    }),
    cacheHits: new Counter({ name: 'pictor_cache_hits_total', help: 'Derivative cache hits by tier (memory|disk).', labelNames: ['tier'] as const, registers }),
    cacheMisses: new Counter({ name: 'pictor_cache_misses_total', help: 'Derivative cache misses by tier (memory|disk).', labelNames: ['tier'] as const, registers }),
    cacheBytes: new Gauge({ name: 'pictor_cache_bytes', help: 'Bytes held by each derivative cache tier.', labelNames: ['tier'] as const, registers }),
    cacheItems: new Gauge({ name: 'pictor_cache_items', help: 'Entries held by each derivative cache tier.', labelNames: ['tier'] as const, registers }),
    cacheMaxBytes: new Gauge({ name: 'pictor_cache_max_bytes', help: 'Configured size of each derivative cache tier.', labelNames: ['tier'] as const, registers }),
    transformDuration: new Histogram({
      name: 'pictor_transform_duration_seconds', help: 'Time to render one derivative (cache miss), by output format.',
      labelNames: ['format'] as const, buckets: TRANSFORM_BUCKETS, registers,
    }),
    fastPathResponses: new Counter({
      name: 'pictor_delivery_fast_path_responses_total',
      help: 'Responses (memory-cache hits, 304s, 429s) answered by the delivery fast path before routing.', registers,
    }),
    transformInFlight: new Gauge({ name: 'pictor_transform_in_flight', help: 'Renders running now.', registers }),
    transformQueueDepth: new Gauge({ name: 'pictor_transform_queue_depth', help: 'Renders waiting for the pool.', registers }),
    transformRejected: new Counter({ name: 'pictor_transform_rejected_total', help: 'Renders refused with 503 OVERLOADED (pool queue full).', registers }),
    limiterDecisions: new Counter({
      name: 'pictor_rate_limit_decisions_total', help: 'Rate-limit decisions by bucket and decision (allowed|limited).',
      labelNames: ['bucket', 'decision'] as const, registers,
    }),
    limiterFallbacks: new Counter({ name: 'pictor_rate_limit_redis_fallbacks_total', help: 'Decisions made in process because Redis was unreachable.', registers }),
    limiterDegraded: new Gauge({ name: 'pictor_rate_limit_degraded', help: '1 while limits are not shared across instances (Redis unreachable).', registers }),
    uploadBytes: new Counter({ name: 'pictor_upload_bytes_total', help: 'Bytes of completed uploads.', registers }),
    uploads: new Counter({ name: 'pictor_uploads_total', help: 'Completed uploads.', registers }),
    jobs: new Gauge({ name: 'pictor_jobs', help: 'Jobs in the queue by state (all instances).', labelNames: ['state'] as const, registers }),
    dbPoolSize: new Gauge({ name: 'pictor_db_pool_max_connections', help: 'Database connections this process may open.', registers }),
    dbConnections: new Gauge({
      name: 'pictor_db_connections', help: 'Open database connections of every Pictor process by state (Postgres only).',
      labelNames: ['state'] as const, registers,
    }),
    requestLogsDropped: new Counter({ name: 'pictor_request_logs_dropped_total', help: 'Request-log entries dropped because the write buffer was full.', registers }),
    requestLogsWritten: new Counter({ name: 'pictor_request_logs_written_total', help: 'Request-log entries written to the database.', registers }),
    requestLogsBuffered: new Gauge({ name: 'pictor_request_logs_buffered', help: 'Request-log entries waiting to be written.', registers }),
    usageFlushFailures: new Counter({ name: 'pictor_usage_flush_failures_total', help: 'Failed usage-counter writes (retried with the next batch).', registers }),
    residentMemory: new Gauge({ name: 'pictor_process_resident_memory_bytes', help: 'Resident set size of this process.', registers }),
    heapUsed: new Gauge({ name: 'pictor_process_heap_used_bytes', help: 'JavaScript heap in use.', registers }),
    uptime: new Gauge({ name: 'pictor_process_uptime_seconds', help: 'Seconds since this process started.', registers }),

    /** Runs `fn` before each scrape (errors are swallowed so one broken source cannot hide the rest). */
    addCollector(fn: Collector): void {
      collectors.push(fn);
    },

    /** The exposition text, after running every collector. */
    async render(): Promise<string> {
      const mem = process.memoryUsage();
      m.residentMemory.set(mem.rss);
      m.heapUsed.set(mem.heapUsed);
      m.uptime.set(process.uptime());
      await Promise.all(collectors.map(async (fn) => {
        try {
          await fn();
        } catch {
          // A source that cannot answer (e.g. the DB during an outage) keeps its last values.
        }
      }));
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Wraps a limiter so every window decision is counted by bucket; the limiter's own code stays
 * untouched. Redis fallbacks and degradation are read at scrape time.
 */
export function instrumentLimiter(limiter: RateLimiter, metrics: Metrics): RateLimiter {
  const count = (bucket: string, allowed: boolean) =>
    metrics.limiterDecisions.inc({ bucket, decision: allowed ? 'allowed' : 'limited' });
  metrics.addCollector(() => {
    const fallbacks = (limiter as { fallbackCount?: () => number }).fallbackCount;
    setCounterTotal(metrics.limiterFallbacks, typeof fallbacks === 'function' ? fallbacks.call(limiter) : 0);
    metrics.limiterDegraded.set(limiter.isDegraded() ? 1 : 0);
  });
  const wrapped: Partial<RateLimiter> = {
    consume: async (req) => {
      const d = await limiter.consume(req);
      count(req.bucket, d.allowed);
      return d;
    },
    consumeMany: async (reqs) => {
      const ds = await limiter.consumeMany(reqs);
      ds.forEach((d, i) => count(reqs[i]!.bucket, d.allowed));
      return ds;
    },
    acquire: async (bucket, key, max, ttlMs) => {
      const d = await limiter.acquire(bucket, key, max, ttlMs);
      count(bucket, d.allowed);
      return d;
    },
  };
  // A proxy keeps everything else (getters such as `kind`, extras such as `fallbackCount`) live.
  return new Proxy(limiter, {
    get: (target, prop, receiver) =>
      prop in wrapped ? wrapped[prop as keyof RateLimiter] : Reflect.get(target, prop, receiver),
  });
}
