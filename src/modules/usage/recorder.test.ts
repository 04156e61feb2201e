/**
 * The recorder's in-memory side: counts land on the UTC day of the clock when they are recorded
 * (the day string is cached per day, so a clock that moves backwards must still be followed),
 * and one account's pending deltas sum over days.
 */
import { expect, test } from 'bun:test';
import type { Db } from '../../db/client';
import { createLogger } from '../../logger';
import { createUsageRecorder } from './recorder';

test('counts go to the day of the clock, forwards and backwards; pendingOf sums the days', async () => {
  let now = Date.parse('2026-03-30T23:59:59.999Z');
  // Nothing is written in this test: no flush runs while a day's counts are pending.
  const usage = createUsageRecorder({ db: {} as Db, log: createLogger('silent'), now: () => now, intervalMs: 3_600_000 });
  usage.record('u1', { bytesServed: 10, originReads: 1 });
  now += 1; // 2026-03-31T00:00:00.000Z
  usage.record('u1', { imageOps: 1, bytesServed: 5 });
  now -= 2; // back to March 30
  usage.record('u1', { bytesServed: 1 });
  usage.record('u2', { uploads: 1, uploadBytes: 7 });
  expect(usage.pendingCount()).toBe(3); // u1 × 2 days, u2 × 1
  expect(usage.pendingOf('u1')).toEqual({ originReads: 1, imageOps: 1, bytesServed: 16, uploads: 0, uploadBytes: 0 });
  expect(usage.pendingOf('u3')).toEqual({ originReads: 0, imageOps: 0, bytesServed: 0, uploads: 0, uploadBytes: 0 });
});
