/**
 * Renditions kept in the storage beside the originals, under `renditions/<sha256>/`. A rendition
 * is made by whichever process's worker runs its job, into that process's derivative disk cache;
 * instances on other hosts (or API processes that run no jobs, `QUEUE_CONCURRENCY=0`) have other
 * caches, and answered 202 for ever, queueing the transcode again at each poll. Stored, it is
 * copied into the asking process's cache once and served from there.
 *
 * Written by the job after its file is in place; removed with the original's bytes by their
 * `blob_delete` job and by a cache purge (`DELETE /api/cache/:id`). Not counted in the quota,
 * like every derivative. The orphan sweep (files/orphans.ts) only judges upload keys.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AppDeps } from '../../deps';
import type { DerivativeKey } from '../cache/types';

export const renditionPrefix = (sha256: string): string => `renditions/${sha256}/`;
export const renditionKey = (k: DerivativeKey): string => `${renditionPrefix(k.sha256)}${k.variant}.${k.ext}`;

type LocalFile = { path: string; size: number; mtimeMs: number };

/** Stores the rendition made at `path`; removed again if its video was purged meanwhile (`epoch` moved). */
export async function storeRendition(deps: AppDeps, k: DerivativeKey, path: string, epoch: number): Promise<void> {
  const body = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  await deps.storage.put(renditionKey(k), body, { contentType: k.ext === 'webm' ? 'video/webm' : 'video/mp4' });
  // The purge's deletion may have run before this put: this process heard of the purge by now (its epoch).
  if (deps.delivery.cache.epochOf(k.sha256) !== epoch) await deps.storage.delete(renditionKey(k));
}

const copying = new Map<string, Promise<LocalFile | undefined>>();

/**
 * The rendition from the storage, copied into this process's disk cache (once for concurrent
 * askers); undefined when it was never stored, or cannot be kept here.
 */
export function fetchRendition(deps: AppDeps, k: DerivativeKey): Promise<LocalFile | undefined> {
  const id = renditionKey(k);
  let p = copying.get(id);
  if (!p) {
    p = copy(deps, k).finally(() => copying.delete(id));
    copying.set(id, p);
  }
  return p;
}

async function copy(deps: AppDeps, k: DerivativeKey): Promise<LocalFile | undefined> {
  const files = deps.delivery.cache.files;
  const epoch = deps.delivery.cache.epochOf(k.sha256);
  const info = await deps.storage.head(renditionKey(k));
  if (!info || info.size > files.largest) return undefined;
  const body = await deps.storage.get(renditionKey(k));
  if (!body) return undefined;
  const tmp = files.tempPath();
  try {
    await mkdir(dirname(tmp), { recursive: true });
    await pipeline(Readable.fromWeb(body as unknown as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(tmp));
    if (!(await files.adopt(k, tmp, info.size, epoch))) return undefined;
    return await files.fileOf(k);
  } finally {
    await rm(tmp, { force: true }); // gone already after a successful adopt
  }
}
