import { describe, expect, test } from 'bun:test';
import type { LoadResult } from './k6';
import type { Entry } from './report';
import { foldRounds, median } from './stats';

const load = (requests: number, rps: number, over: Partial<LoadResult> = {}): LoadResult => ({
  requests, rps, p50_ms: 10, p95_ms: 20, p99_ms: 30, max_ms: 40, unexpected: 0, rejected: 0,
  mb_received_per_s: 0, dropped: 0, thresholds_ok: true, crossed: [], duration_s: 1, ...over,
});
const entry = (l: LoadResult): Entry => ({ title: 'cold', kind: 'scenario', available: true, load: l });

describe('bench statistics', () => {
  test('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([3, 1, 2])).toBe(2);
  });

  test('two rounds fold into the rate over both (requests / time), not the mean of the rates', () => {
    const entries: Record<string, Entry> = {
      cold: entry(load(20, 10, { p95_ms: 25 })),
      cold_mirrored: entry(load(20, 20, { p95_ms: 35, thresholds_ok: false, crossed: ['p95'] })),
    };
    foldRounds(entries, 'cold', 'cold_mirrored');
    // 20 requests in 2 s, then 20 in 1 s: 40 in 3 s.
    expect(entries.cold?.load).toMatchObject({ requests: 40, rps: 13.3, p95_ms: 35, thresholds_ok: false, crossed: ['p95'] });
    expect(entries.cold?.extra).toMatchObject({ rounds: 2, round_rps: '10 / 20' });
    expect(entries.cold_mirrored).toBeUndefined();
  });

  test('a failed round leaves the other one standing alone', () => {
    const failed: Entry = { title: 'cold', kind: 'scenario', available: false, reason: 'k6 failed' };
    const kept = entry(load(20, 10));
    const secondFailed: Record<string, Entry> = { cold: kept, cold_mirrored: failed };
    foldRounds(secondFailed, 'cold', 'cold_mirrored');
    expect(secondFailed).toEqual({ cold: kept });
    const firstFailed: Record<string, Entry> = { cold: failed, cold_mirrored: kept };
    foldRounds(firstFailed, 'cold', 'cold_mirrored');
    expect(firstFailed).toEqual({ cold: kept });
  });
});
