/**
 * The two-tier derivative cache: memory (tier 1) in front of disk (tier 2). A disk hit is
 * promoted into memory; a new derivative goes to both (the disk write off the response path).
 * Purging one original removes its derivatives from both tiers, and a render that started
 * before the purge is not stored after it (purge epochs).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../logger';
import { createDiskTier } from './disk';
import { createMemoryTier, memoryKey } from './memory';
import { CONTENT_TYPES, type CachedDerivative, type CacheTier, type DerivativeKey, type TierStats } from './types';

/** Bump when the pipeline's output changes for the same options, so old derivatives are not served. */
export const PIPELINE_VERSION = 2;

/** Computes the content-addressed key of a derivative. */
export function derivativeKey(sha256: string, canonical: string, ext: string): DerivativeKey {
  const variant = createHash('sha256').update(`${PIPELINE_VERSION}\n${canonical}\n${ext}`).update(sha256).digest('hex').slice(0, 32);
  return { sha256, variant, ext };
}

export interface DerivativeCacheOptions {
  dir: string;
  memoryBytes: number;
  diskBytes: number;
  log: Logger;
}

export function createDerivativeCache(opts: DerivativeCacheOptions) {
  const memory = createMemoryTier(opts.memoryBytes);
  const disk = createDiskTier(opts.dir, opts.diskBytes, opts.log);
  const ready = disk.open().catch((err: unknown) => opts.log.error({ err }, 'derivative disk cache unavailable'));
  /** Purge counter per original; small and bounded in practice (only purged originals appear). */
  const epochs = new Map<string, number>();

  return {
    ready,
    /** Memory only: the hot path, no await. */
    getMemory: (k: DerivativeKey): CachedDerivative | undefined => memory.get(memoryKey(k)),
    /**
     * The same by the key's `memoryKey` string, kept by a caller that asks for it again and again
     * (the fast path): the one string's hash is computed once, a rebuilt one's on every lookup.
     */
    getMemoryAt: (key: string): CachedDerivative | undefined => memory.get(key),
    /** Memory, then disk (promoting a disk hit). */
    async get(k: DerivativeKey): Promise<{ entry: CachedDerivative; tier: CacheTier } | undefined> {
      const hot = memory.get(memoryKey(k));
      if (hot) return { entry: hot, tier: 'HIT-MEMORY' };
      await ready;
      const cold = await disk.get(k);
      if (!cold) return undefined;
      memory.set(memoryKey(k), cold);
      return { entry: cold, tier: 'HIT-DISK' };
    },
    /** Disk-only derivatives streamed from their file (video renditions): never held in memory. */
    files: {
      ready,
      /** The largest file kept (`CACHE_DISK_BYTES` / 8; 0 with the disk tier off). */
      largest: disk.largest,
      fileOf: (k: DerivativeKey) => disk.fileOf(k),
      /** The id of the cache folder: processes sharing `CACHE_DIR` share it. */
      identity: () => disk.identity(),
      tempPath: () => disk.tempPath(),
      /**
       * Moves a finished file into the tier, unless its original was purged since `epoch` (a video
       * deleted while its rendition was made: the file would outlive the purge). False then.
       */
      async adopt(k: DerivativeKey, tmp: string, size: number, epoch: number): Promise<boolean> {
        if ((epochs.get(k.sha256) ?? 0) !== epoch) return false;
        await disk.adopt(k, tmp, size);
        return true;
      },
    },
    /** The purge epoch of an original, captured before a render starts and passed to `set`. */
    epochOf: (sha256: string): number => epochs.get(sha256) ?? 0,
    /** Stores a fresh render in both tiers unless its original was purged since `epoch`. */
    set(k: DerivativeKey, body: Uint8Array, epoch: number): CachedDerivative {
      const entry: CachedDerivative = {
        body,
        contentType: CONTENT_TYPES[k.ext] ?? 'application/octet-stream',
        etag: `"${k.variant}"`,
        lastModified: new Date().toUTCString(),
      };
      if ((epochs.get(k.sha256) ?? 0) !== epoch) return entry;
      memory.set(memoryKey(k), entry);
      void ready.then(() => disk.set(k, body));
      return entry;
    },
    /** Removes every derivative of one original from both tiers; returns how many entries went. */
    async purgeOriginal(sha256: string): Promise<number> {
      epochs.set(sha256, (epochs.get(sha256) ?? 0) + 1);
      if (epochs.size > 100_000) epochs.clear(); // a bound; losing epochs only risks one stale store
      const inMemory = memory.deleteOriginal(sha256);
      await ready;
      const onDisk = await disk.deleteOriginal(sha256);
      return Math.max(inMemory, onDisk);
    },
    stats: (): { memory: TierStats; disk: TierStats } => ({ memory: memory.stats(), disk: disk.stats() }),
  };
}

export type DerivativeCache = ReturnType<typeof createDerivativeCache>;
