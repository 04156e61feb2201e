/**
 * The server's own job types (API.md §8), registered on `deps.queue` by the queue plugin:
 *
 * - `purge` (file_id): releases a soft-deleted file's references to its de-duplicated bytes and
 *   deletes its row (files/purge.ts, files/blobs.ts); when the last reference went, the bytes'
 *   `blob_delete` job (retried with backoff until storage confirms) and the derivatives go too.
 * - `derive` (file_id, transformations?): caches a new image's metadata (blurhash, dominant
 *   colour; files/metadata.ts), then renders the eager presets and the transformations it asked
 *   for (transform/service.ts).
 * - `expire` (every minute, once per minute cluster-wide): soft-deletes expired files and
 *   enqueues a `purge` for every deleted file that has none yet.
 * - `prune` (hourly, once per hour cluster-wide): finished jobs and queue events past
 *   `QUEUE_RETENTION_DAYS`, expired sessions/tokens, plus steps other modules add with
 *   `addPruneStep` (e.g. request logs).
 */
import { and, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { refreshTokens, sessions, emailTokens } from '../auth/table';
import { publishFileChange } from '../cache/lookup';
import { ensureFileMetadata } from '../files/metadata';
import { expireFiles, purgeFile } from '../files/purge';
import { BLOB_DELETE_JOB, deleteBlobBytes } from '../files/blobs';
import { files, uploadTokens } from '../files/table';
import { getDelivery } from '../transform/service';
import { enqueueJob, type EnqueueOptions } from './enqueue';
import { registerVideoJobs } from '../video/jobs';
import { jobEvents, jobs } from './table';

export const EXPIRE_PERIOD_MS = 60_000;
export const PRUNE_PERIOD_MS = 3_600_000;
/** A purge must eventually succeed: many attempts, backoff capped at 15 minutes (≈ a day in all). */
const PURGE_MAX_ATTEMPTS = 100;

type PruneStep = (deps: AppDeps) => Promise<number>;
const pruneSteps = new WeakMap<AppDeps, Map<string, PruneStep>>();

/** Adds a step to the hourly `prune` job (returns how many rows it removed). */
export function addPruneStep(deps: AppDeps, name: string, step: PruneStep): void {
  let steps = pruneSteps.get(deps);
  if (!steps) pruneSteps.set(deps, (steps = new Map()));
  steps.set(name, step);
}

/** The `purge` job of a deleted file; call with the transaction that soft-deletes it. Deduped per file. */
export function enqueuePurge(tx: DbOrTx, file: { id: string; userId?: string | null }) {
  return enqueueJob(tx, purgeSpec(file));
}

const purgeSpec = (file: { id: string; userId?: string | null }): EnqueueOptions => ({
  type: 'purge',
  fileId: file.id,
  userId: file.userId ?? null,
  payload: { file_id: file.id },
  uniqueKey: `purge:${file.id}`,
  maxAttempts: PURGE_MAX_ATTEMPTS,
  priority: 1,
});

/** The `derive` job of a new upload; call with the transaction that writes the file row. */
export function enqueueDerive(tx: DbOrTx, file: { id: string; userId: string }, transformations: readonly string[] = []) {
  const payload = transformations.length ? { file_id: file.id, transformations: [...transformations] } : { file_id: file.id };
  return enqueueJob(tx, { type: 'derive', fileId: file.id, userId: file.userId, payload, maxAttempts: 3 });
}

/** The upload's own `transformations` a derive job carries (validated at upload). */
const transformationsOf = (payload: Record<string, unknown>): string[] =>
  Array.isArray(payload.transformations) ? payload.transformations.filter((v): v is string => typeof v === 'string') : [];

const fileIdOf = (job: { fileId: string | null; payload: Record<string, unknown> }) =>
  job.fileId ?? (typeof job.payload.file_id === 'string' ? job.payload.file_id : null);

/** Enqueues purges for deleted files that have no purge job yet (the unique key dedupes). */
export async function enqueueMissingPurges(deps: AppDeps, limit = 1000): Promise<number> {
  const rows = await deps.db
    .select({ id: files.id, userId: files.userId })
    .from(files)
    .where(and(isNotNull(files.deletedAt), sql`not exists (select 1 from jobs j where j.unique_key = 'purge:' || ${files.id})`))
    .limit(limit);
  let n = 0;
  for (const r of rows) if (await enqueueJob(deps.db, purgeSpec(r))) n++;
  return n;
}

export function registerCoreJobs(deps: AppDeps): void {
  const q = deps.queue;

  q.register(
    'purge',
    async ({ job, log }) => {
      const id = fileIdOf(job);
      if (!id) throw new Error('purge job without file_id');
      const [file] = await deps.db.select().from(files).where(eq(files.id, id)).limit(1);
      // Already purged (a retry after the row went), or restored: nothing to do.
      if (!file || !file.deletedAt) return;
      const { originalDied } = await purgeFile(deps, file);
      // Derivatives are keyed by sha256: they go with the last file holding those bytes (files/blobs.ts).
      await publishFileChange(deps, originalDied ? { id: file.id, sha256: file.sha256, purge: true } : { id: file.id });
      log.debug({ file_id: id }, 'purged');
    },
    { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 },
  );

  // `blob_delete` (files/blobs.ts): the bytes of a key no file references any more; retried until storage confirms.
  q.register(
    BLOB_DELETE_JOB,
    async ({ job }) => {
      const { backend, key } = job.payload;
      if (typeof backend !== 'string' || typeof key !== 'string') throw new Error('blob_delete job without backend and key');
      await deleteBlobBytes(deps, backend, key);
    },
    { backoffBaseMs: 2000, backoffMaxMs: 15 * 60_000 },
  );

  q.register('derive', async ({ job, setProgress, log }) => {
    const id = fileIdOf(job);
    if (!id) throw new Error('derive job without file_id');
    await setProgress(10);
    // Metadata first (blurhash, dominant colour): the file object carries them from then on, so
    // a library can paint placeholders without a request per tile. A failure here is logged, not
    // retried: GET /api/files/:id/metadata computes it again on demand.
    const [row] = await deps.db.select().from(files).where(and(eq(files.id, id), isNull(files.deletedAt))).limit(1);
    if (row && !row.meta) await ensureFileMetadata(deps, row).catch((err: unknown) => log.warn({ err, file_id: id }, 'metadata at upload failed'));
    await getDelivery(deps).deriveEager(id, transformationsOf(job.payload));
  });

  // `video_render` (modules/video/jobs.ts): one rendition of a video, asked for by `/t/…/<id>.mp4|.webm`.
  registerVideoJobs(deps);

  q.register(
    'expire',
    async ({ log }) => {
      const expired = await expireFiles(deps);
      const purges = await enqueueMissingPurges(deps);
      if (expired || purges) log.info({ expired, purges }, 'expiry sweep');
    },
    { periodMs: EXPIRE_PERIOD_MS, backoffBaseMs: 5000 },
  );

  q.register(
    'prune',
    async ({ log, checkpoint }) => {
      const retention = new Date(Date.now() - deps.config.queue.retentionDays * 86_400_000);
      const now = new Date();
      const removed: Record<string, number> = {};
      const count = async (name: string, p: Promise<unknown[]>) => void (removed[name] = (await p).length);
      await count('jobs', deps.db.delete(jobs).where(and(isNotNull(jobs.finishedAt), lt(jobs.finishedAt, retention))).returning({ id: jobs.id }));
      await count('job_events', deps.db.delete(jobEvents).where(lt(jobEvents.createdAt, retention)).returning({ id: jobEvents.id }));
      await count('sessions', deps.db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ id: sessions.expiresAt }));
      await count('refresh_tokens', deps.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, now)).returning({ id: refreshTokens.expiresAt }));
      await count('email_tokens', deps.db.delete(emailTokens).where(lt(emailTokens.expiresAt, now)).returning({ id: emailTokens.expiresAt }));
      await count('upload_tokens', deps.db.delete(uploadTokens).where(lt(uploadTokens.expiresAt, now)).returning({ id: uploadTokens.expiresAt }));
      for (const [name, step] of pruneSteps.get(deps) ?? []) {
        await checkpoint();
        removed[name] = await step(deps);
      }
      log.info({ removed }, 'pruned');
    },
    { periodMs: PRUNE_PERIOD_MS, backoffBaseMs: 60_000 },
  );
}
