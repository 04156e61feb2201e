import { describe, expect, test } from 'bun:test';
import { createTraffic } from './traffic';

describe('admin traffic ring', () => {
  test('counts requests per minute, gives cache lookups to the minute they happened in, keeps 60 minutes', () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 5);
    const cache = { lookups: 10, hits: 4 }; // totals before the ring existed are not counted
    const t = createTraffic(() => now, () => ({ ...cache }));
    t.record(200);
    t.record(503);
    cache.lookups += 5;
    cache.hits += 3;
    now += 60_000; // next minute
    t.record(200);
    cache.lookups += 2;
    cache.hits += 2;
    const hour = t.lastHour();
    expect(hour).toHaveLength(60);
    expect(hour.at(-2)).toEqual({ at: '2026-01-01T12:00:00.000Z', requests: 2, errors: 1, cache_lookups: 5, cache_hits: 3 });
    expect(hour.at(-1)).toEqual({ at: '2026-01-01T12:01:00.000Z', requests: 1, errors: 0, cache_lookups: 2, cache_hits: 2 });
    expect(hour.slice(0, -2).every((m) => m.requests === 0 && m.cache_hits === 0)).toBe(true);

    // An hour and more later the old minutes have left the ring.
    now += 61 * 60_000;
    t.record(200);
    const later = t.lastHour();
    expect(later.reduce((s, m) => s + m.requests, 0)).toBe(1);
    expect(later[0]!.at).toBe(new Date(Math.floor(now / 60_000) * 60_000 - 59 * 60_000).toISOString());
  });
});
