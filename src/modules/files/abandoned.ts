/**
 * Uploads a crash cut short (issue #17.5, #17.6): an S3 multipart upload nobody will complete
 * or abort, a temp file whose writer died, an object stored whose row was never committed
 * (orphans.ts). Swept once when the process starts (files/jobs.ts) and then hourly as a step of
 * the `prune` job (once per hour cluster-wide, src/jobs.ts), for those begun more than
 * `ABANDONED_UPLOAD_AFTER` ago; the storage driver never touches an upload a live process of
 * its host is writing.
 */
import type { AppDeps } from '../../deps';
import { sweepOrphanObjects } from './orphans';

/** One sweep; returns how many uploads and objects it removed (the `prune` step counts them). */
export async function sweepAbandonedUploads(deps: AppDeps): Promise<number> {
  // Storage timestamps (S3's `Initiated`, file times) are wall-clock: so is the bound.
  const removed = await deps.storage.sweepAbandoned(new Date(Date.now() - deps.config.abandonedUploadAfterMs));
  if (removed) deps.log.info({ removed, storage: deps.storage.kind }, 'removed uploads abandoned by a crash');
  const orphans = await sweepOrphanObjects(deps);
  if (orphans) deps.log.info({ removed: orphans, storage: deps.storage.kind }, 'removed stored objects without a row');
  deps.log.debug({ uploads: removed, orphans }, 'abandoned upload sweep done');
  return removed + orphans;
}
