/**
 * Stored objects no row references (issue #17, "objects without a row"): an upload stores its
 * object under its final key (`<user id>/<file id>`, and `<key>.public` for a photo's
 * location-free copy) before `commitFile` writes the row, so a crash between the two leaves
 * the object behind. Swept with the abandoned uploads (abandoned.ts: at start-up and hourly):
 * an object of that layout last written before `ABANDONED_UPLOAD_AFTER` ago whose key is the
 * `storage_key` or `public_storage_key` of no `files` row (deleted rows awaiting their purge
 * included), of no live blob (de-duplicated bytes, blobs.ts: the key of a file since deleted may
 * hold bytes other files share) and of no tus upload in progress is deleted. An upload whose
 * bytes were already stored deletes its own copy after commit; a crash before leaves it here.
 *
 * Why the age bound is safe: an upload commits its row right after its object is written (the
 * probe, ffprobe and the public copy take seconds), and an upload cannot itself outlast the
 * bound: an S3 multipart upload begun before it is aborted by the same sweep, a tus upload
 * expires `ABANDONED_UPLOAD_AFTER` after its creation, and a request upload that sends nothing
 * for `UPLOAD_IDLE_TIMEOUT` is aborted. So an object an upload may still commit is younger than
 * the bound (a day by default); only an operator who sets the bound below their longest upload
 * could lose one.
 */
import { inArray } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { tusUploads } from '../tus/table';
import { files } from './table';
import { liveBlobKeys } from './blobs';

/** Rows are looked up this many keys per query: memory stays bounded however many objects there are. */
const BATCH = 500;
/** The keys uploads write (ingest.ts, public-copy.ts): anything else in the bucket is not ours to judge. */
const UPLOAD_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/([A-Za-z0-9]+)(\.public)?$/;

/** Deletes the keys of `batch` that no file row and no tus upload references; returns how many. */
async function removeUnreferenced(deps: AppDeps, batch: string[]): Promise<number> {
  // Looked up by id (the primary key; an upload's key names its file id), then compared by key.
  const ids = [...new Set(batch.map((k) => (UPLOAD_KEY.exec(k) as RegExpExecArray)[1] as string))];
  const rows = await deps.db.select({ storageKey: files.storageKey, publicStorageKey: files.publicStorageKey })
    .from(files).where(inArray(files.id, ids));
  const tus = await deps.db.select({ storageKey: tusUploads.storageKey }).from(tusUploads).where(inArray(tusUploads.fileId, ids));
  const referenced = new Set<string>();
  for (const r of rows) {
    referenced.add(r.storageKey);
    if (r.publicStorageKey) referenced.add(r.publicStorageKey);
  }
  // A tus upload's object exists before its row goes (fs: renamed into place, then the row is deleted).
  for (const t of tus) referenced.add(t.storageKey);
  // De-duplicated bytes (blobs.ts) outlive the file whose upload stored them: a live blob keeps its key.
  for (const k of await liveBlobKeys(deps, batch)) referenced.add(k);
  let removed = 0;
  for (const key of batch) {
    if (referenced.has(key)) continue;
    await deps.storage.delete(key);
    removed++;
  }
  return removed;
}

/** Deletes stored upload objects older than the bound that nothing references; returns how many. */
export async function sweepOrphanObjects(deps: AppDeps): Promise<number> {
  // Storage timestamps (file mtimes, S3's LastModified) are wall-clock: so is the bound.
  const before = new Date(Date.now() - deps.config.abandonedUploadAfterMs);
  let removed = 0;
  let batch: string[] = [];
  for await (const { key } of deps.storage.listOlderThan('', before)) {
    if (!UPLOAD_KEY.test(key)) continue;
    batch.push(key);
    if (batch.length >= BATCH) {
      removed += await removeUnreferenced(deps, batch);
      batch = [];
    }
  }
  if (batch.length) removed += await removeUnreferenced(deps, batch);
  return removed;
}
