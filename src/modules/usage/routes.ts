/**
 * `GET /api/usage` (API.md §3). `storage_bytes` and `files_count` are the exact counters on the
 * account row (kept in the same transaction as the files they count), so they always describe
 * now, whatever the period; `origin_reads`, `image_ops` and `bytes_served` are the month's
 * totals from `usage_counters`, written in batches (a few seconds behind).
 *
 * The plugin also connects the counters other modules keep (originals delivery, transforms) to
 * `deps.usage` and starts its periodic flush.
 */
import { and, eq } from 'drizzle-orm';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound, validationError } from '../../errors';
import { authGuard } from '../auth/guard';
import { deliveryStats } from '../delivery/stats';
import { getDelivery } from '../transform/service';
import { users } from '../users/table';
import { periodOf } from './recorder';
import { usageCounters } from './table';

const Usage = t.Object(
  {
    period: t.String({ description: 'The calendar month (UTC), `YYYY-MM`.', examples: ['2026-10'] }),
    storage_bytes: t.Integer({ description: 'Bytes of your live files, now.' }),
    files_count: t.Integer({ description: 'Your live files, now.' }),
    origin_reads: t.Integer({ description: 'Originals served (`/i`, `/d`) in the period.' }),
    image_ops: t.Integer({ description: 'Derivatives rendered (cache misses) in the period.' }),
    bytes_served: t.Integer({ description: 'Bytes of originals and derivatives served in the period.' }),
    period_start: t.String({ format: 'date-time' }),
    period_end: t.String({ format: 'date-time', description: 'Exclusive: the first instant of the next month.' }),
  },
  { title: 'Usage' },
);

const UsageQuery = t.Object({
  period: t.Optional(t.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'Calendar month `YYYY-MM`; default the current one.' })),
});

/** Month bounds of `YYYY-MM` (or of now). */
function monthOf(period: string | undefined, now: number): { key: string; start: Date; end: Date } {
  const first = period ? `${period}-01` : periodOf(now);
  const start = new Date(`${first}T00:00:00.000Z`);
  if (Number.isNaN(start.getTime())) throw validationError('Invalid period.', [{ path: 'period', message: 'must be YYYY-MM' }]);
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return { key: first, start, end };
}

/** The usage of one account for a month. */
export async function getUsage(deps: AppDeps, userId: string, period?: string) {
  const m = monthOf(period, deps.clock.now());
  const [[user], [counters]] = await Promise.all([
    deps.db.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users).where(eq(users.id, userId)),
    deps.db.select().from(usageCounters).where(and(eq(usageCounters.userId, userId), eq(usageCounters.period, m.key))),
  ]);
  if (!user) throw notFound('Account');
  return {
    period: m.key.slice(0, 7),
    storage_bytes: user.storageBytes,
    files_count: user.filesCount,
    origin_reads: counters?.originReads ?? 0,
    image_ops: counters?.imageOps ?? 0,
    bytes_served: counters?.bytesServed ?? 0,
    period_start: m.start.toISOString(),
    period_end: m.end.toISOString(),
  };
}

/** Feeds the delivery and transform counters into `deps.usage` and starts its flush timer. */
function connectSources(deps: AppDeps): void {
  const originals = deliveryStats(deps);
  originals.setSink((batch) => {
    for (const [userId, c] of batch) deps.usage.record(userId, { originReads: c.originReads, bytesServed: c.bytesServed });
  });
  deps.usage.attachSource(() => originals.flush());
  const transforms = getDelivery(deps).usage;
  transforms.setSink(async (batch) => {
    for (const d of batch) deps.usage.record(d.userId, { imageOps: d.imageOps, bytesServed: d.bytesServed });
  });
  deps.usage.attachSource(() => transforms.flush());
  deps.usage.start();
}

export function usageRoutes(deps: AppDeps) {
  connectSources(deps);
  return new Elysia({ name: 'pictor.usage.routes' })
    .use(authGuard(deps))
    .get('/api/usage', ({ principal, query }) => getUsage(deps, principal.userId, query.period), {
      auth: 'account:read',
      query: UsageQuery,
      response: { 200: Usage, ...errorResponses(400, 401, 403) },
      detail: {
        tags: ['account'],
        summary: 'Your usage',
        description: 'Storage and file count now, plus delivery counters of a calendar month (`?period=YYYY-MM`, default the current one). '
          + 'Delivery counters are aggregated in memory and written every few seconds.',
      },
    });
}
