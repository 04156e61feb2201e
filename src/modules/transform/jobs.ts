/**
 * The `derive` job (file_id, transformations?), enqueued by an upload in the transaction that
 * writes the file row (files/ingest.ts): caches the image's metadata (blurhash, dominant
 * colour; files/metadata.ts), then renders the eager presets and the transformations the
 * upload asked for (`deriveEager`, service.ts).
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { AppDeps } from '../../deps';
import { outageOf } from '../../errors';
import { ensureFileMetadata } from '../files/metadata';
import { files } from '../files/table';
import { enqueueJob } from '../queue/enqueue';

export const DERIVE_JOB = 'derive';

/** The `derive` job of a new upload; call with the transaction that writes the file row. */
export function enqueueDerive(tx: DbOrTx, file: { id: string; userId: string }, transformations: readonly string[] = []) {
  const payload = transformations.length ? { file_id: file.id, transformations: [...transformations] } : { file_id: file.id };
  return enqueueJob(tx, { type: DERIVE_JOB, fileId: file.id, userId: file.userId, payload, maxAttempts: 3 });
}

/** The upload's own `transformations` a derive job carries (validated at upload). */
const transformationsOf = (payload: Record<string, unknown>): string[] =>
  Array.isArray(payload.transformations) ? payload.transformations.filter((v): v is string => typeof v === 'string') : [];

const fileIdOf = (job: { fileId: string | null; payload: Record<string, unknown> }) =>
  job.fileId ?? (typeof job.payload.file_id === 'string' ? job.payload.file_id : null);

export function registerTransformJobs(deps: AppDeps): void {
  deps.queue.register(DERIVE_JOB, async ({ job, setProgress, log }) => {
    const id = fileIdOf(job);
    if (!id) throw new Error('derive job without file_id');
    await setProgress(10);
    // Metadata first (blurhash, dominant colour): the file object carries them from then on, so
    // a library can paint placeholders without a request per tile. The storage or the database
    // away fails the job, to be tried again; any other failure (a file its decoder refuses) is
    // logged, not retried: GET /api/files/:id/metadata computes it again on demand.
    const [row] = await deps.db.select().from(files).where(and(eq(files.id, id), isNull(files.deletedAt))).limit(1);
    if (row && !row.meta) {
      await ensureFileMetadata(deps, row).catch((err: unknown) => {
        if (outageOf(err)) throw err;
        log.warn({ err, file_id: id }, 'metadata at upload failed');
      });
    }
    await deps.delivery.deriveEager(id, transformationsOf(job.payload));
  }, { background: true }); // a request renders what is not ready yet; uploads come first (QUEUE_DEFER_MS)
}
