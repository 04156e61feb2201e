/**
 * `GET /api/usage/history` and the daily counters behind it (issue #21, usage page): a flush
 * spanning midnight writes one row per day and sums both into the month; a day without
 * activity holds the previous day's storage; today's storage is the live total; past months
 * come back with their totals; the documented response shape is what the route answers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import { createApiKey } from '../../src/modules/keys/service';
import { users } from '../../src/modules/users/table';
import { makeTestApp, type TestApp } from '../helpers/app';

let now = Date.parse('2026-03-30T23:59:00Z');
let h: TestApp;
let key: string;
let userId: string;

beforeAll(async () => {
  h = await makeTestApp({ clock: { now: () => now } });
  const [u] = await h.deps.db.insert(users).values({ email: 'meter@example.test', passwordHash: 'x' }).returning();
  userId = u!.id;
  key = (await createApiKey(h.deps.db, userId, { name: 'usage', scopes: ['account:read'] })).key;
});
afterAll(async () => {
  await h?.close();
});

const storage = (bytes: number, files: number) => h.deps.db.update(users).set({ storageBytes: bytes, filesCount: files }).where(eq(users.id, userId));
async function history(query: string) {
  const res = await h.request(`/api/usage/history${query}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    period: string;
    days: { day: string; uploads: number; image_ops: number; origin_reads: number; storage_bytes: number; files_count: number }[];
    months: { period: string; uploads: number; upload_bytes: number; image_ops: number; origin_reads: number; bytes_served: number; storage_bytes: number }[];
  };
}

describe('usage history', () => {
  test('days, months, storage carried over quiet days, live storage today', async () => {
    await storage(100, 1);
    h.deps.usage.record(userId, { uploads: 1, uploadBytes: 100, imageOps: 2 });
    now = Date.parse('2026-03-31T00:01:00Z');
    h.deps.usage.record(userId, { imageOps: 3, originReads: 1, bytesServed: 40 });
    await h.deps.usage.flush(); // one batch, two days of one month

    now = Date.parse('2026-04-02T10:00:00Z');
    await storage(250, 2);
    h.deps.usage.record(userId, { uploads: 1, uploadBytes: 150 });
    await h.deps.usage.flush();
    await storage(260, 2); // a change after the last flush: today shows it anyway

    const april = await history('?months=3');
    expect(april.period).toBe('2026-04');
    expect(april.days.map((d) => [d.day, d.uploads, d.storage_bytes])).toEqual([
      ['2026-04-01', 0, 100], // quiet day: March 31's storage
      ['2026-04-02', 1, 260], // today: live
    ]);
    expect(april.months.map((m) => m.period)).toEqual(['2026-02', '2026-03', '2026-04']);
    expect(april.months[0]).toMatchObject({ uploads: 0, image_ops: 0, storage_bytes: 0 });
    expect(april.months[1]).toMatchObject({ uploads: 1, upload_bytes: 100, image_ops: 5, origin_reads: 1, bytes_served: 40, storage_bytes: 100 });
    expect(april.months[2]).toMatchObject({ uploads: 1, upload_bytes: 150, image_ops: 0, storage_bytes: 260 });

    // Months to come: no days yet, and the storage held now (they said 0, where GET /api/usage says now).
    const ahead = await history('?period=2026-06&months=3');
    expect(ahead.days).toEqual([]);
    expect(ahead.months.map((m) => [m.period, m.uploads, m.storage_bytes])).toEqual([['2026-04', 1, 260], ['2026-05', 0, 260], ['2026-06', 0, 260]]);

    const march = await history('?period=2026-03&months=1');
    expect(march.days).toHaveLength(31);
    expect(march.days[28]).toMatchObject({ day: '2026-03-29', image_ops: 0, storage_bytes: 0 });
    expect(march.days[29]).toMatchObject({ day: '2026-03-30', uploads: 1, image_ops: 2, storage_bytes: 100, files_count: 1 });
    expect(march.days[30]).toMatchObject({ day: '2026-03-31', uploads: 0, image_ops: 3, origin_reads: 1 });

    // The month endpoint agrees with the month's sum.
    const res = await h.request('/api/usage?period=2026-03', { headers: { authorization: `Bearer ${key}` } });
    expect(await res.json()).toMatchObject({ image_ops: 5, origin_reads: 1, bytes_served: 40 });

    const bad = await h.request('/api/usage/history?months=37', { headers: { authorization: `Bearer ${key}` } });
    expect(bad.status).toBe(400);
    // Months whose bounds leave four-digit years are refused (9999-12 ended at "+010000-01-01").
    for (const path of ['/api/usage?period=9999-12', '/api/usage/history?period=9999-12', '/api/usage?period=0001-01', '/api/usage/history?period=1970-01&months=36']) {
      const res = await h.request(path, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { error?: string; period_end?: string; days?: { day: string }[] };
      if (path.includes('1970-01')) expect([res.status, body.days?.[0]?.day]).toEqual([200, '1970-01-01']);
      else expect([path, res.status, body.error]).toEqual([path, 400, 'VALIDATION_ERROR']);
    }
  });
});
