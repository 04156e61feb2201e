/**
 * `GET /metrics` (API.md §10): Prometheus text exposition of this process, for a bearer
 * `METRICS_TOKEN` or an admin credential (401 without credentials, 403 for non-admins).
 *
 * The plugin also installs the global hook that counts every request by method, route
 * template (`/api/files/:id`, never the concrete path, so cardinality stays bounded) and
 * status, and the scrape-time collectors that read state other modules keep.
 */
import { sql } from 'drizzle-orm';
import { Elysia, t } from 'elysia';
import { timingSafeEqual } from 'node:crypto';
import type { AppDeps } from '../../deps';
import { errorResponses, forbidden, unauthorized } from '../../errors';
import { carriesCredential, notAuthenticated, requireScope } from '../auth/guard';
import { bearerCredential } from '../auth/credentials';
import { onRequestDone, requestStartOf } from '../../http';
import { setCounterTotal, type Metrics } from './registry';

/** Constant-time comparison of the presented bearer token with `METRICS_TOKEN`. */
function tokenMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Scrape-time collectors: cache tiers and transform pool, job counts, DB connections. */
function addCollectors(deps: AppDeps, m: Metrics): void {
  m.dbPoolSize.set(deps.database.kind === 'postgres' ? deps.config.databasePool : 1);
  const delivery = deps.delivery;
  m.addCollector(() => {
    const tiers = delivery.cache.stats();
    for (const tier of ['memory', 'disk'] as const) {
      const s = tiers[tier];
      setCounterTotal(m.cacheHits, s.hits, { tier });
      setCounterTotal(m.cacheMisses, s.misses, { tier });
      m.cacheBytes.set({ tier }, s.bytes);
      m.cacheItems.set({ tier }, s.items);
      m.cacheMaxBytes.set({ tier }, s.max_bytes);
    }
    setCounterTotal(m.fastPathResponses, delivery.fastPath.responses);
    const pool = delivery.pool.stats();
    m.transformInFlight.set(pool.in_flight);
    m.transformQueueDepth.set(pool.queued);
    setCounterTotal(m.transformRejected, pool.rejected);
  });
  m.addCollector(async () => {
    const rows = await deps.db.execute<{ status: string; n: number }>(sql`select status, count(*)::int as n from jobs group by status`);
    const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: { status: string; n: number }[] }).rows;
    for (const state of ['pending', 'running', 'completed', 'failed', 'cancelled']) m.jobs.set({ state }, 0);
    for (const r of list) m.jobs.set({ state: r.status }, Number(r.n));
  });
  if (deps.database.kind === 'postgres') {
    m.addCollector(async () => {
      const rows = await deps.db.execute<{ state: string; n: number }>(sql`
        select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
        where application_name = 'pictor' and datname = current_database() group by 1`);
      const list = rows as unknown as { state: string; n: number }[];
      for (const state of ['active', 'idle', 'idle in transaction']) m.dbConnections.set({ state }, 0);
      for (const r of list) m.dbConnections.set({ state: r.state }, Number(r.n));
    });
  }
}

export function metricsRoutes(deps: AppDeps) {
  const m = deps.metrics;
  addCollectors(deps, m);
  const resolver = deps.credentials;
  onRequestDone(deps, ({ request, route, status }) => {
    const t0 = requestStartOf(request);
    m.http.record(request.method, route || 'unmatched', status, t0 === undefined ? undefined : (performance.now() - t0) / 1000);
  });
  return new Elysia({ name: 'pictor.metrics' })
    .get('/metrics', async ({ request, set }) => {
      const bearer = bearerCredential(request);
      const byToken = deps.config.metricsToken !== undefined && bearer !== null && tokenMatches(bearer, deps.config.metricsToken);
      if (!byToken) {
        const principal = await resolver.resolve(request);
        // A wrong or expired credential is told as on every route (it read like none was sent).
        if (!principal) throw carriesCredential(request) ? notAuthenticated(request) : unauthorized('Send `Authorization: Bearer <METRICS_TOKEN>` or an admin credential.');
        if (principal.role !== 'admin') throw forbidden('Metrics are for admins and the metrics token.');
        requireScope(principal, 'admin'); // an admin's key without the scope is told which scope it lacks
      }
      set.headers['content-type'] = m.contentType;
      set.headers['cache-control'] = 'no-store';
      return m.render();
    }, {
      response: { 200: t.String({ description: 'Prometheus text exposition format 0.0.4.' }), ...errorResponses(401, 403) },
      detail: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description: 'Requests by route template and status with latency histograms, derivative cache hits/misses/bytes per tier, answers of the delivery fast path, '
          + 'transform durations and queue depth, rate-limit decisions and Redis fallbacks, upload bytes, job counts by state, '
          + 'DB connections, request-log drops, client disconnects (`pictor_http_client_aborts_total`; such requests are recorded with status 499). Per process: every series carries `worker="<n>"`, the index of the answering process under `WORKERS=N` (`0` for a single process), '
          + 'since the processes share one port and a scrape lands on any of them. `Authorization: Bearer <METRICS_TOKEN>` or an admin credential.',
        // METRICS_TOKEN goes as a bearer token; an admin's credential in any form.
        security: [{ bearerJwt: [] }, { bearerApiKey: [] }, { apiKeyHeader: [] }, { cookie: [] }],
      },
    });
}
