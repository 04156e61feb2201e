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

test('recordBytesServed (the cache-hit path) lands on the same days as record', () => {
  let now = Date.parse('2026-03-30T23:59:59.999Z');
  const usage = createUsageRecorder({ db: {} as Db, log: createLogger('silent'), now: () => now, intervalMs: 3_600_000 });
  usage.recordBytesServed('u1', 100);
  usage.record('u1', { originReads: 1 });
  expect(usage.pendingCount()).toBe(1); // one entry: u1 on March 30
  now += 1; // March 31: a new entry, not March 30's
  usage.recordBytesServed('u1', 10);
  expect(usage.pendingCount()).toBe(2);
  now -= 2; // back to March 30: its entry again
  usage.recordBytesServed('u1', 1);
  usage.recordBytesServed('u2', 7);
  expect(usage.pendingCount()).toBe(3);
  expect(usage.pendingOf('u1')).toEqual({ originReads: 1, imageOps: 0, bytesServed: 111, uploads: 0, uploadBytes: 0 });
  expect(usage.pendingOf('u2').bytesServed).toBe(7);
});
