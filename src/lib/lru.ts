/**
 * An LRU cache bounded by its number of entries that allocates nothing up front. lru-cache's
 * `max` preallocates index arrays of `max` slots: eight caches of 100 000 entries took ~110 ms
 * of every start-up and several MiB before anything was cached (docs/TUNING.md, "Start-up").
 * Counting each entry as size 1 under `maxSize` keeps the same bound with arrays that grow as
 * entries arrive; sets cost a little more (one size call), gets the same. For the caches the
 * hit path consults per request and that stay small, plain `max` is fine.
 */
import { LRUCache } from 'lru-cache';

type Options<K extends {}, V extends {}> = Omit<LRUCache.Options<K, V, unknown>, 'max' | 'maxSize' | 'sizeCalculation' | 'maxEntrySize'>;

export function countBoundedLru<K extends {}, V extends {}>(maxEntries: number, opts: Options<K, V> = {}): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...opts, maxSize: maxEntries, sizeCalculation: () => 1 } as LRUCache.Options<K, V, unknown>);
}
