/**
 * Video renditions kept in the storage, under `renditions/<sha256>/`, for processes whose own
 * derivative cache lacks one. A rendition is made into the disk cache of whichever process's
 * worker runs its job; a process with another `CACHE_DIR` (another host, an API process whose
 * worker runs elsewhere) answered 202 for ever and queued the transcode again at each poll.
 *
 * Only what such a process asked for is stored: the job carries the asking cache's id
 * (`asked_by`, the id file of its `CACHE_DIR`, shared by every process sharing the folder), and
 * a worker with another id stores the rendition after making it (or any worker, for a job that
 * says `store`: queued again by a process that found a finished job's rendition nowhere); the
 * asker copies it into its own cache once, or streams it from the storage when its cache cannot
 * keep it. One host on the default `DATA_DIR` stores nothing. A rendition that cannot be stored
 * (over `VIDEO_STORED_BYTES`, or 0) fails its job with that reason: the asker answers 422 with it
 * rather than 202 for ever.
 *
 * Bounded: a row per object (table.ts) counts bytes; past `VIDEO_STORED_BYTES` the least
 * recently stored or copied go. Removed with their original's bytes (`blob_delete`) and with a
 * cache purge. An object whose row was never written (a crash between the two) is swept by the
 * hourly `prune` once older than `ABANDONED_UPLOAD_AFTER`. Not counted in the quota, like every
 * derivative.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { eq, inArray, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import type { DerivativeKey } from '../cache/types';
import { queryRows } from '../queue/sql';
import { videoRenditions } from './table';

const PREFIX = 'renditions/';
export const renditionPrefix = (sha256: string): string => `${PREFIX}${sha256}/`;
export const renditionKey = (k: DerivativeKey): string => `${renditionPrefix(k.sha256)}${k.variant}.${k.ext}`;

type LocalFile = { path: string; size: number; mtimeMs: number };
/** A stored rendition read from the storage itself (this process's cache cannot keep it). */
export type StoredRendition = { key: string; size: number; mtimeMs: number };
/** Keys per statement when many rows go at once (Postgres takes at most 65 535 parameters). */
const BATCH = 500;
type Deps = Pick<AppDeps, 'db' | 'storage' | 'config' | 'log' | 'delivery'>;

/**
 * Stores the rendition made at `path` for a process with another cache, then trims the store to
 * its bound. Dropped again when its video was purged meanwhile (`epoch` moved on).
 */
export async function storeRendition(deps: Deps, k: DerivativeKey, path: string, epoch: number): Promise<void> {
  const cap = deps.config.video.storedBytes;
  if (cap === 0) throw new Error('renditions are not shared with processes that have another cache folder (VIDEO_STORED_BYTES=0)');
  const size = (await stat(path)).size;
  // Stored, it would be trimmed at once, and asked for again at every poll.
  if (size > cap) throw new Error(`the rendition (${size} bytes) is larger than VIDEO_STORED_BYTES (${cap} bytes), the most kept for processes with another cache folder`);
  const key = renditionKey(k);
  const [known] = await deps.db.select({ key: videoRenditions.key }).from(videoRenditions).where(eq(videoRenditions.key, key)).limit(1);
  if (known) return;
  const body = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  // Object first, then its row: a row always names a whole object (a crash between leaves an orphan, swept).
  const stored = await deps.storage.put(key, body, { contentType: k.ext === 'webm' ? 'video/webm' : 'video/mp4' });
  await deps.db.insert(videoRenditions).values({ key, sha256: k.sha256, bytes: stored.size })
    .onConflictDoUpdate({ target: videoRenditions.key, set: { bytes: stored.size, usedAt: sql`clock_timestamp()` } });
  if (deps.delivery.cache.epochOf(k.sha256) !== epoch) await forget(deps, [key]);
  await trim(deps, cap);
}

/** Removes the rows, then the objects (an object left by a failure is an orphan the sweep removes). */
async function forget(deps: Deps, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    await deps.db.delete(videoRenditions).where(inArray(videoRenditions.key, batch));
    for (const key of batch) await deps.storage.delete(key);
  }
}

/** Drops the least recently used renditions past `cap` bytes in total. */
async function trim(deps: Deps, cap: number): Promise<void> {
  const over = await queryRows<{ key: string }>(deps.db, sql`
    select key from (
      select key, sum(bytes) over (order by used_at desc, key desc) as total from video_renditions
    ) r where total > ${cap}`);
  if (over.length) deps.log.debug({ removed: over.length, cap }, 'stored video renditions trimmed');
  await forget(deps, over.map((r) => r.key));
}

/** Every stored rendition of one original (its bytes went, or its derivatives were purged). */
export async function deleteStoredRenditions(deps: Pick<AppDeps, 'db' | 'storage'>, sha256: string): Promise<void> {
  await deps.db.delete(videoRenditions).where(eq(videoRenditions.sha256, sha256));
  await deps.storage.deletePrefix(renditionPrefix(sha256));
}

const copying = new Map<string, Promise<LocalFile | StoredRendition | undefined>>();

/**
 * The stored rendition, copied into this process's disk cache (once for concurrent askers), or,
 * when this cache cannot keep it (too large, the disk tier off or failing), to be read from the
 * storage; undefined when none is stored.
 */
export function fetchStoredRendition(deps: Deps, k: DerivativeKey): Promise<LocalFile | StoredRendition | undefined> {
  if (deps.config.video.storedBytes === 0) return Promise.resolve(undefined);
  const key = renditionKey(k);
  let p = copying.get(key);
  if (!p) {
    p = copy(deps, k, key).finally(() => copying.delete(key));
    copying.set(key, p);
  }
  return p;
}

async function copy(deps: Deps, k: DerivativeKey, key: string): Promise<LocalFile | StoredRendition | undefined> {
  const files = deps.delivery.cache.files;
  const [row] = await deps.db.update(videoRenditions).set({ usedAt: sql`clock_timestamp()` })
    .where(eq(videoRenditions.key, key)).returning({ bytes: videoRenditions.bytes });
  if (!row) return undefined;
  const fromStorage: StoredRendition = { key, size: row.bytes, mtimeMs: 0 };
  if (row.bytes > files.largest) return fromStorage;
  const epoch = deps.delivery.cache.epochOf(k.sha256);
  const body = await deps.storage.get(key);
  if (!body) {
    // Gone behind its row (a purge between the two steps, a bucket emptied by hand).
    await deps.db.delete(videoRenditions).where(eq(videoRenditions.key, key));
    return undefined;
  }
  const tmp = files.tempPath();
  try {
    await pipeline(Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>), createWriteStream(tmp));
    if (!(await files.adopt(k, tmp, row.bytes, epoch))) return undefined;
    return (await files.fileOf(k)) ?? fromStorage;
  } catch (err) {
    // This cache could not take it (a full or read-only disk): served from the storage instead.
    deps.log.warn({ err, key }, 'could not copy a stored rendition into the disk cache; serving it from the storage');
    return fromStorage;
  } finally {
    await rm(tmp, { force: true }); // gone already after a successful adopt
  }
}

/**
 * A step of the hourly `prune`: objects under `renditions/` older than `ABANDONED_UPLOAD_AFTER`
 * that no row names (a crash between the object and its row); returns how many went.
 */
export async function sweepStoredRenditions(deps: Deps): Promise<number> {
  const before = new Date(Date.now() - deps.config.abandonedUploadAfterMs);
  let removed = 0;
  let batch: string[] = [];
  const flush = async () => {
    const known = await deps.db.select({ key: videoRenditions.key }).from(videoRenditions).where(inArray(videoRenditions.key, batch));
    const keep = new Set(known.map((r) => r.key));
    for (const key of batch) {
      if (keep.has(key)) continue;
      await deps.storage.delete(key);
      removed++;
    }
    batch = [];
  };
  for await (const { key } of deps.storage.listOlderThan(PREFIX, before)) {
    batch.push(key);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  await trim(deps, deps.config.video.storedBytes); // after a lowered VIDEO_STORED_BYTES
  return removed;
}
