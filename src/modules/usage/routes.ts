/**
 * `GET /api/usage` (API.md §3). `storage_bytes` and `files_count` are the exact counters on the
 * account row (kept in the same transaction as the files they count), so they always describe
 * now, whatever the period; `origin_reads`, `image_ops` and `bytes_served` are the month's
 * totals from `usage_counters`, written in batches (a few seconds behind) by `deps.usage`
 * (recorder.ts), which every feature counts into directly.
 */
import { and, desc, eq, gte, lt } from 'drizzle-orm';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, notFound, validationError } from '../../errors';
import { authGuard } from '../auth/guard';
import { users } from '../users/table';
import { dayOf, periodOf } from './recorder';
import { usageCounters, usageDaily } from './table';

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
  period: t.Optional(t.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'Calendar month `YYYY-MM` from 1970-01 to 9990-12; default the current one.' })),
});

const FIRST_YEAR = 1970;
const LAST_YEAR = 9990;

/** Month bounds of `YYYY-MM` (or of now). */
function monthOf(period: string | undefined, now: number): { key: string; start: Date; end: Date } {
  const first = period ? `${period}-01` : periodOf(now);
  const start = new Date(`${first}T00:00:00.000Z`);
  if (Number.isNaN(start.getTime())) throw validationError('Invalid period.', [{ path: '/period', message: 'must be YYYY-MM' }]);
  // Outside these the dates leave ISO 8601's four-digit years (`9999-12` ended at `+010000-01-01`).
  const year = start.getUTCFullYear();
  if (year < FIRST_YEAR || year > LAST_YEAR) {
    throw validationError(`The period must be a month from ${FIRST_YEAR}-01 to ${LAST_YEAR}-12.`, [{ path: '/period', message: `year ${year} is out of range` }]);
  }
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

const Counters = {
  uploads: t.Integer({ description: 'Files uploaded.' }),
  upload_bytes: t.Integer({ description: 'Bytes uploaded.' }),
  origin_reads: t.Integer({ description: 'Originals served (`/i`, `/d`).' }),
  image_ops: t.Integer({ description: 'Derivatives rendered (cache misses).' }),
  bytes_served: t.Integer({ description: 'Bytes of originals and derivatives served.' }),
  storage_bytes: t.Integer({ description: 'Bytes stored at the end of the day or month (now, for today and the current month).' }),
  files_count: t.Integer({ description: 'Files stored at the same moment.' }),
};
const UsageHistory = t.Object(
  {
    period: t.String({ description: 'The month of `days`, `YYYY-MM`.' }),
    days: t.Array(t.Object({ day: t.String({ format: 'date' }), ...Counters }), { description: 'Each day of the month up to today (UTC), oldest first.' }),
    months: t.Array(t.Object({ period: t.String({ description: '`YYYY-MM`' }), ...Counters }), { description: 'The `months` months up to and including `period`, oldest first.' }),
  },
  { title: 'UsageHistory' },
);
const HistoryQuery = t.Object({
  period: UsageQuery.properties.period,
  months: t.Optional(t.Integer({ minimum: 1, maximum: 36, description: 'How many months to list in `months` (default 12).' })),
});

type Row = { uploads: number; upload_bytes: number; origin_reads: number; image_ops: number; bytes_served: number; storage_bytes: number; files_count: number };
const zero = (): Row => ({ uploads: 0, upload_bytes: 0, origin_reads: 0, image_ops: 0, bytes_served: 0, storage_bytes: 0, files_count: 0 });

/**
 * Daily and monthly history for the usage page's charts. Delivery totals of a month come from
 * `usage_counters` (older than the daily table, so past months stay complete); uploads and the
 * storage snapshots from `usage_daily`. A day without a row stored what the previous one did.
 */
export async function getUsageHistory(deps: AppDeps, userId: string, period: string | undefined, monthCount: number) {
  const now = deps.clock.now();
  const m = monthOf(period, now);
  const first = new Date(Date.UTC(m.start.getUTCFullYear(), m.start.getUTCMonth() - (monthCount - 1), 1));
  const firstKey = first.toISOString().slice(0, 10);
  const today = dayOf(now);
  const [[user], daily, monthly, [before]] = await Promise.all([
    deps.db.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users).where(eq(users.id, userId)),
    deps.db.select().from(usageDaily)
      .where(and(eq(usageDaily.userId, userId), gte(usageDaily.day, firstKey), lt(usageDaily.day, m.end.toISOString().slice(0, 10))))
      .orderBy(usageDaily.day),
    deps.db.select().from(usageCounters).where(and(eq(usageCounters.userId, userId), gte(usageCounters.period, firstKey), lt(usageCounters.period, m.end.toISOString().slice(0, 10)))),
    deps.db.select({ storageBytes: usageDaily.storageBytes, filesCount: usageDaily.filesCount }).from(usageDaily)
      .where(and(eq(usageDaily.userId, userId), lt(usageDaily.day, firstKey))).orderBy(desc(usageDaily.day)).limit(1),
  ]);
  if (!user) throw notFound('Account');
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const months: (Row & { period: string })[] = [];
  const days: (Row & { day: string })[] = [];
  let storage = { bytes: before?.storageBytes ?? 0, files: before?.filesCount ?? 0 };
  for (let month = new Date(first); month < m.end; month = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1))) {
    const key = month.toISOString().slice(0, 7);
    // A month with no day yet carries the storage held at the last day before it (today's, for months to come).
    const total = { period: key, ...zero(), storage_bytes: storage.bytes, files_count: storage.files };
    const end = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1));
    for (let d = new Date(month); d < end; d = new Date(d.getTime() + 86_400_000)) {
      const day = d.toISOString().slice(0, 10);
      if (day > today) break;
      const row = byDay.get(day);
      if (row) storage = { bytes: row.storageBytes, files: row.filesCount };
      if (day === today) storage = { bytes: user.storageBytes, files: user.filesCount };
      total.uploads += row?.uploads ?? 0;
      total.upload_bytes += row?.uploadBytes ?? 0;
      total.storage_bytes = storage.bytes;
      total.files_count = storage.files;
      if (key === m.key.slice(0, 7)) {
        days.push({
          day, uploads: row?.uploads ?? 0, upload_bytes: row?.uploadBytes ?? 0, origin_reads: row?.originReads ?? 0, image_ops: row?.imageOps ?? 0,
          bytes_served: row?.bytesServed ?? 0, storage_bytes: storage.bytes, files_count: storage.files,
        });
      }
    }
    const c = monthly.find((r) => r.period.slice(0, 7) === key);
    total.origin_reads = c?.originReads ?? 0;
    total.image_ops = c?.imageOps ?? 0;
    total.bytes_served = c?.bytesServed ?? 0;
    months.push(total);
  }
  return { period: m.key.slice(0, 7), days, months };
}

export function usageRoutes(deps: AppDeps) {
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
    })
    .get('/api/usage/history', ({ principal, query }) => getUsageHistory(deps, principal.userId, query.period, query.months ?? 12), {
      auth: 'account:read',
      query: HistoryQuery,
      response: { 200: UsageHistory, ...errorResponses(400, 401, 403) },
      detail: {
        tags: ['account'],
        summary: 'Your usage over time',
        description: 'Per day of a month (`?period=YYYY-MM`, default the current one) and per month for the `months` months up to it: uploads, '
          + 'origin reads, image operations, bytes served and the storage held. Same counters as `GET /api/usage`, a few seconds behind; '
          + "a past day's storage is the account's total at its last activity that day.",
      },
    });
}
