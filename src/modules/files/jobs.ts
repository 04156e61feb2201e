/**
 * The files feature's jobs (API.md §8):
 *
 * - `purge` (file_id): releases a soft-deleted file's references to its de-duplicated bytes and
 *   deletes its row (purge.ts, blobs.ts); when the last reference went, the bytes' `blob_delete`
 *   job (retried with backoff until storage confirms) and the derivatives go too. Enqueued by
 *   every soft delete (enqueue.ts).
 * - `blob_delete` (backend, key, sha256): the bytes of a key no file references any more, and
 *   the derivatives of those bytes on every instance.
 * - `expire` (every minute, once per minute cluster-wide): soft-deletes expired files and
 *   enqueues a `purge` for every deleted file that has none yet.
 *
 * Plus the sweep of uploads a crash cut short (abandoned.ts): a step of the queue's hourly
 * `prune` (src/jobs.ts lists it) and once at process start.
 */
import { eq } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { publishFileChange } from '../cache/lookup';
import { sweepAbandonedUploads } from './abandoned';
import { BLOB_DELETE_JOB, deleteBlobBytes } from './blobs';
import { enqueueMissingPurges, PURGE_JOB } from './enqueue';
import { expireFiles, purgeFile } from './purge';
import { files } from './table';
import { deleteStoredRenditions } from '../video/stored';

export const EXPIRE_PERIOD_MS = 60_000;

const fileIdOf = (job: { fileId: string | null; payload: Record<string, unknown> }) =>
  job.fileId ?? (typeof job.payload.file_id === 'string' ? job.payload.file_id : null);

export function registerFileJobs(deps: AppDeps): void {
  const q = deps.queue;

  q.register(
    PURGE_JOB,
    async ({ job, log }) => {
      const id = fileIdOf(job);
      if (!id) throw new Error('purge job without file_id');
      const [file] = await deps.db.select().from(files).where(eq(files.id, id)).limit(1);
      // Already purged (a retry after the row went), or restored: nothing to do.
      if (!file || !file.deletedAt) return;
      const { originalDied } = await purgeFile(deps, file);
      // Derivatives are keyed by sha256: they go with the last file holding those bytes (blobs.ts).
      await publishFileChange(deps, originalDied ? { id: file.id, sha256: file.sha256, purge: true } : { id: file.id });
      log.debug({ file_id: id }, 'purged');
    },
    { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 },
  );

  q.register(
    BLOB_DELETE_JOB,
    async ({ job }) => {
      const { backend, key, sha256 } = job.payload;
      if (typeof backend !== 'string' || typeof key !== 'string') throw new Error('blob_delete job without backend and key');
      if (!(await deleteBlobBytes(deps, backend, key))) return;
      if (typeof sha256 !== 'string') return;
      await deleteStoredRenditions(deps, sha256); // the video renditions kept in the storage (video/stored.ts)
      // Again if the purge told the caches already (it costs a directory rename): its process may have died first.
      await publishFileChange(deps, { id: '', sha256, purge: true }); // no file: only the bytes' derivatives
    },
    { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 },
  );

  q.register(
    'expire',
    async ({ log }) => {
      const expired = await expireFiles(deps);
      const purges = await enqueueMissingPurges(deps);
      if (expired || purges) log.info({ expired, purges }, 'expiry sweep');
    },
    { periodMs: EXPIRE_PERIOD_MS, backoffBaseMs: 5000 },
  );

  // Once per process, as it starts (the server and `npm run worker` register the jobs once), in
  // the background: start-up does not wait on S3. The hourly sweeps are the `prune` step.
  sweepAbandonedUploads(deps).catch((err: unknown) => deps.log.warn({ err }, 'could not sweep abandoned uploads'));
}
