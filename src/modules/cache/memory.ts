/**
 * Tier 1: an in-memory LRU of encoded derivatives bounded by **bytes** (`CACHE_MEMORY_BYTES`),
 * not by item count, so a burst of large renders cannot grow the heap past the budget.
 */
import { LRUCache } from 'lru-cache';
import type { CachedDerivative, DerivativeKey, TierStats } from './types';

/** Per-entry bookkeeping beyond the body (key string, headers, LRU node), counted against the budget. */
const ENTRY_OVERHEAD_BYTES = 512;

export const memoryKey = (k: DerivativeKey) => `${k.sha256}/${k.variant}`;

export function createMemoryTier(maxBytes: number) {
  // lru-cache needs maxSize ≥ 1; a 0 budget disables the tier (every set is refused below).
  const lru = new LRUCache<string, CachedDerivative>({
    maxSize: Math.max(1, maxBytes),
    sizeCalculation: (v) => v.body.byteLength + ENTRY_OVERHEAD_BYTES,
  });
  let hits = 0;
  let misses = 0;
  return {
    get(key: string): CachedDerivative | undefined {
      const v = lru.get(key);
      if (v) hits++;
      else misses++;
      return v;
    },
    set(key: string, value: CachedDerivative): void {
      // Anything larger than an eighth of the budget would evict too much to be worth keeping.
      if (value.body.byteLength + ENTRY_OVERHEAD_BYTES > maxBytes / 8) return;
      lru.set(key, value);
    },
    /** Drops every derivative of one original; returns how many. */
    deleteOriginal(sha256: string): number {
      const prefix = `${sha256}/`;
      let n = 0;
      for (const key of [...lru.keys()]) if (key.startsWith(prefix) && lru.delete(key)) n++;
      return n;
    },
    clear: () => lru.clear(),
    stats: (): TierStats => ({ items: lru.size, bytes: lru.calculatedSize, max_bytes: maxBytes, hits, misses }),
  };
}

export type MemoryTier = ReturnType<typeof createMemoryTier>;
