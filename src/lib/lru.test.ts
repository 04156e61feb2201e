/** `countBoundedLru`: the same entry bound as lru-cache's `max`, without preallocating it. */
import { describe, expect, test } from 'bun:test';
import { countBoundedLru } from './lru';

describe('countBoundedLru', () => {
  test('keeps at most N entries, evicting the least recently used', () => {
    const c = countBoundedLru<string, { n: number }>(3);
    for (const [i, k] of ['a', 'b', 'c'].entries()) c.set(k, { n: i });
    c.get('a'); // now the most recent
    c.set('d', { n: 3 });
    expect([...c.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(c.size).toBe(3);
    for (let i = 0; i < 1000; i++) c.set(`k${i}`, { n: i });
    expect(c.size).toBe(3);
  });

  test('passes its other options through (a TTL on the injected clock)', () => {
    let now = 1_000;
    const c = countBoundedLru<string, { n: number }>(10, { ttl: 100, ttlResolution: 0, perf: { now: () => now } });
    c.set('x', { n: 1 });
    expect(c.get('x')).toEqual({ n: 1 });
    now += 101;
    expect(c.get('x')).toBeUndefined();
  });
});
