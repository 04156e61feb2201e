/**
 * Ingest: the upload service behind both request styles. `stageFile` streams one file through
 * the inspector into storage under a fresh key; `commitFile` then writes the row, the folders
 * and the usage counters in one transaction whose counter update doubles as the atomic quota
 * check. Anything that fails between the two removes the stored object, so a failed upload
 * leaves no bytes, no row and no counter change. The same transaction enqueues the file's `derive` job. Plain functions: no HTTP context.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { openUploads } from '../tus/reserved';
import type { DbOrTx } from '../../db/client';
import { invalidTransformation, isConnectionLost, notFound, quotaExceeded, validationError, type AppError } from '../../errors';
import { users } from '../users/table';
import { newFileId, sanitizeName } from './names';
import { createInspector, type Inspection } from './inspect';
import { probeImage } from './probe';
import { makePublicCopy, publicKeyOf, type PublicCopy } from './public-copy';
import { ensureFolders } from '../folders/ancestors';
import { files, type FileRow } from './table';
import { contentTypeInfo } from '../reference/content-types';
import { enqueueDerive } from '../transform/jobs';
import { probeUploadedVideo, videoMeta } from '../video/upload';
import { askedBy, eagerRenditionJobs, splitRenditionSegment } from '../video/rendition';
import { enqueueJobs } from '../queue/enqueue';
import { emitWebhookEvent, fileEventData } from '../webhooks/emit';
import { acquireBlob } from './blobs';
import type { VideoInfo } from '../video/probe';
import { isDerivable } from './derivable'; // raster images get a `derive` job; other types have no derivatives to prepare

export interface UploadOwner {
  userId: string;
  isPromoted: boolean;
}

export interface StageOptions {
  maxBytes: number;
  /** Declared type (normalised), checked against the sniffed one. */
  declared?: string;
  /** Exact length when the request said so. */
  size?: number;
  /** An upper bound of the length (a multipart request's own length), when there is one. */
  sizeHint?: number;
  /** Restricts the server's allow-list further (presigned uploads); never widens it. */
  allowedTypes?: readonly string[];
  name?: string;
  /** See `InspectOptions.onBytes`. */
  onBytes?: (bytes: number) => Promise<void>;
}

export interface StagedFile {
  id: string;
  key: string;
  name: string | undefined;
  inspection: Inspection;
  /** Hex SHA-256 of the stored bytes, as the storage driver reported it. */
  sha256: string;
  width: number | null;
  height: number | null;
  /** The location-free copy public delivery serves, when the original carries GPS. */
  publicCopy: PublicCopy | null;
  /** ffprobe's facts for a video (modules/video); absent for other types. */
  video?: VideoInfo | null;
}

export interface CommitAttrs {
  name?: string;
  folder: string;
  isPublic: boolean;
  expiresAt: Date | null;
  /** Seconds from the commit, when the expiry was asked as `expires_in` (a long upload would eat it): wins over `expiresAt`. */
  expiresIn?: number;
  /** Validated transformation segments to render eagerly (the `derive` job), besides the eager presets. */
  transformations?: readonly string[];
  /**
   * Count the account's resumable uploads under way against its quota (every route but tus's own
   * last byte): what they will bring is promised to them, and the last byte is no time to refuse.
   */
  countOpenUploads?: boolean;
  /** Validated tags and custom metadata (files/tags.ts). */
  tags?: string[];
  customMeta?: Record<string, string>;
  /**
   * Run first in the row's transaction: takes the staged bytes for this commit (a finished tus
   * upload's row goes with it). False: another request committed them, so this one stops and
   * leaves the bytes alone (they are that file's).
   */
  claim?: (tx: DbOrTx) => Promise<boolean>;
}

/** A commit whose `claim` found the staged bytes taken by another request's commit. */
export class StagedClaimedElsewhere extends Error {}

/**
 * Refuses (507) before any byte is read when the account is already at its quota. `pending`:
 * what is promised elsewhere and not counted yet (resumable uploads under way), so two of them
 * cannot both be let in when only one fits; their last byte would find out, after the whole upload.
 */
export async function checkQuota(deps: AppDeps, owner: UploadOwner, incomingBytes = 0, pending = { bytes: 0, files: 0 }): Promise<void> {
  const u = await quotaUsage(deps, owner);
  if (u.isPromoted) return;
  if (u.filesCount + pending.files + 1 > deps.config.maxFiles || u.storageBytes + pending.bytes + incomingBytes > deps.config.storageQuotaBytes) {
    throw quotaError(deps, u, pending);
  }
}

/**
 * The bytes one more upload may bring beside `pending` (Infinity for a promoted account), and
 * the 507 to answer past them: the bound of an upload whose length is not known yet.
 */
export async function quotaRoom(
  deps: AppDeps, owner: UploadOwner, pending: { bytes: number; files: number }, db: DbOrTx = deps.db,
): Promise<{ bytes: number; refuse: (message: string) => AppError }> {
  const u = await quotaUsage(deps, owner, db);
  const bytes = u.isPromoted ? Infinity : Math.max(0, deps.config.storageQuotaBytes - u.storageBytes - pending.bytes);
  return { bytes, refuse: (message) => quotaExceeded(message, quotaError(deps, u, pending).details ?? {}) };
}

async function quotaUsage(deps: AppDeps, owner: UploadOwner, db: DbOrTx = deps.db) {
  const [u] = await db
    .select({ storageBytes: users.storageBytes, filesCount: users.filesCount, isPromoted: users.isPromoted })
    .from(users).where(eq(users.id, owner.userId));
  if (!u) throw notFound('Account');
  return u;
}

function quotaError(deps: AppDeps, u: { storageBytes: number; filesCount: number }, pending = { bytes: 0, files: 0 }) {
  const held = pending.files > 0 ? ` (${pending.files} resumable upload${pending.files === 1 ? '' : 's'} under way hold ${pending.bytes} bytes of it)` : '';
  return quotaExceeded(`This upload would exceed your storage or file-count quota${held}.`, {
    storage_bytes: u.storageBytes,
    storage_quota_bytes: deps.config.storageQuotaBytes,
    files_count: u.filesCount,
    max_files: deps.config.maxFiles,
    ...(pending.files > 0 ? { pending_uploads: pending.files, pending_bytes: pending.bytes } : {}),
  });
}

/** Streams one file into storage. Rejects with the inspector's 413/415, or the stream's own error. */
export async function stageFile(deps: AppDeps, owner: UploadOwner, body: ReadableStream<Uint8Array>, o: StageOptions): Promise<StagedFile> {
  const id = newFileId();
  const key = `${owner.userId}/${id}`;
  const inspector = createInspector({
    maxBytes: o.maxBytes, allowedTypes: deps.config.allowedTypes, restrictTypes: o.allowedTypes, declared: o.declared, onBytes: o.onBytes,
    sizeHint: o.size ?? o.sizeHint,
  });
  let stored: { size: number; sha256: string };
  try {
    stored = await deps.storage.put(key, inspector.wrap(body), { size: o.size });
  } catch (err) {
    throw inspector.failure() ?? err;
  }
  const inspection = inspector.result();
  if (stored.size !== inspection.size) {
    await discardStaged(deps, { key });
    throw new Error(`storage stored ${stored.size} bytes of ${inspection.size}`);
  }
  return finishStaged(deps, { id, key, name: o.name, inspection, sha256: stored.sha256 });
}

/**
 * The steps after an object is stored whole and inspected (here, or by a resumable upload over
 * several requests, modules/tus): dimensions, and the public copy of a photo with GPS. On
 * failure the object (and its copy) is removed.
 */
export async function finishStaged(
  deps: AppDeps, s: { id: string; key: string; name: string | undefined; inspection: Inspection; sha256: string },
): Promise<StagedFile> {
  const { key, inspection } = s;
  try {
    const dims = await probeImage(inspection.contentType, inspection.head, inspection.complete, deps.config.maxInputPixels, deps.storage, key);
    // A video that ffprobe cannot read is refused (415) here, before a row exists.
    const video = await probeUploadedVideo(deps, key, inspection.contentType);
    // Before the row exists: a photo with GPS is never served publicly without its public copy.
    const publicCopy = await makePublicCopy(deps, { key, contentType: inspection.contentType, size: inspection.size, sha256: s.sha256, head: inspection.head });
    return { ...s, ...dims, ...(video ? { width: video.width, height: video.height, video } : {}), publicCopy };
  } catch (err) {
    await discardStaged(deps, { key, publicCopy: { key: publicKeyOf(key), sha256: '' } }); // the copy too, if it was written
    throw err;
  }
}

/** Removes a staged object (and its public copy) that will not be committed. */
export async function discardStaged(deps: AppDeps, staged: { key: string; publicCopy?: PublicCopy | null }): Promise<void> {
  for (const key of [staged.key, ...(staged.publicCopy ? [staged.publicCopy.key] : [])]) {
    try {
      await deps.storage.delete(key);
    } catch (err) {
      deps.log.error({ err, key }, 'could not remove an uncommitted upload');
    }
  }
}

/**
 * Eager transformations the file's type can take: image steps on raster images, renditions on
 * video (their segments are checked against the video when it is committed). Exported for tus,
 * which knows the type from the first chunk (it refused them at the last byte, then dropped every byte).
 */
export function checkEagerKinds(video: boolean, derivable: boolean, contentType: string, transformations: readonly string[] | undefined): void {
  if (!transformations?.length) return;
  if (!derivable && !video) {
    throw invalidTransformation('transformations', 'only on raster images (JPEG, PNG, WebP, GIF, AVIF, HEIF, TIFF) and video', contentType);
  }
  if (!video) for (const t of transformations) {
    if (splitRenditionSegment(t)) throw invalidTransformation('transformations', 'renditions (.mp4, .webm) only for video', t);
  }
}

/**
 * The file's expiry as it is stored: `expires_in` counts from now, not from the request's start;
 * an `expires_at` passed while the bytes arrived is a 400 (a 201 for a file already gone, 410).
 */
function expiryAtCommit(now: number, attrs: CommitAttrs): Date | null {
  if (attrs.expiresIn !== undefined) return new Date(now + attrs.expiresIn * 1000);
  if (attrs.expiresAt && attrs.expiresAt.getTime() <= now) {
    throw validationError(`expires_at (${attrs.expiresAt.toISOString()}) passed while the file was uploading: nothing was kept. Send a later time, or expires_in (it counts from when the file is stored).`,
      [{ path: '/expires_at', message: 'passed during the upload' }]);
  }
  return attrs.expiresAt;
}

/** Writes the row, folders and counters atomically; 507 (and the object removed) when over quota. */
export async function commitFile(deps: AppDeps, owner: UploadOwner, staged: StagedFile, attrs: CommitAttrs): Promise<FileRow> {
  const { config } = deps;
  const { inspection } = staged;
  const ext = contentTypeInfo(inspection.contentType)?.extensions[0] ?? 'bin';
  const name = sanitizeName(attrs.name ?? staged.name, `${staged.id}.${ext}`);
  const derivable = isDerivable(inspection.contentType);
  try {
    const expiresAt = expiryAtCommit(deps.clock.now(), attrs);
    const video = staged.video ? inspection.contentType : null;
    checkEagerKinds(video !== null, derivable, inspection.contentType, attrs.transformations);
    // A video's eager renditions: one `video_render` job each, committed with the row (validated first: 400, nothing kept).
    const renditionJobs = video && staged.video && attrs.transformations?.length
      ? eagerRenditionJobs(deps, deps.delivery, { id: staged.id, userId: owner.userId, sha256: staged.sha256, contentType: video }, staged.video, attrs.transformations, await askedBy(deps))
      : [];
    let hooked = false;
    const held = attrs.countOpenUploads && !owner.isPromoted ? await openUploads(deps, owner.userId) : { bytes: 0, files: 0 };
    return await deps.db.transaction(async (tx) => {
      if (attrs.claim && !(await attrs.claim(tx))) throw new StagedClaimedElsewhere('the staged bytes were committed by another request');
      // The counter update is the quota check: it matches only while the new totals fit,
      // and the row lock it takes serialises parallel uploads of one account.
      const updated = await tx
        .update(users)
        .set({
          storageBytes: sql`${users.storageBytes} + ${inspection.size}`,
          filesCount: sql`${users.filesCount} + 1`,
        })
        .where(and(
          eq(users.id, owner.userId),
          sql`(${users.isPromoted} or (${users.storageBytes} + ${inspection.size + held.bytes} <= ${config.storageQuotaBytes} and ${users.filesCount} + ${1 + held.files} <= ${config.maxFiles}))`,
        ))
        .returning({ id: users.id });
      if (updated.length === 0) {
        const [u] = await tx.select({ storageBytes: users.storageBytes, filesCount: users.filesCount }).from(users).where(eq(users.id, owner.userId));
        if (!u) throw notFound('Account');
        throw quotaError(deps, u, held);
      }
      // De-duplication (blobs.ts): the row holds the key of the one stored copy of these bytes,
      // this upload's own when it is the first; sha256 order, the order purges lock them in.
      const backend = deps.storage.kind;
      const refs = [{ sha256: staged.sha256, key: staged.key, size: inspection.size, public: false }];
      if (staged.publicCopy) refs.push({ sha256: staged.publicCopy.sha256, key: staged.publicCopy.key, size: inspection.size, public: true });
      refs.sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
      let storageKey = staged.key;
      let publicStorageKey: string | null = null;
      for (const r of refs) {
        const key = await acquireBlob(tx, backend, r);
        if (r.public) publicStorageKey = key;
        else storageKey = key;
      }
      await ensureFolders(tx, owner.userId, attrs.folder);
      const [row] = await tx.insert(files).values({
        id: staged.id,
        userId: owner.userId,
        name,
        folder: attrs.folder,
        contentType: inspection.contentType,
        size: inspection.size,
        sha256: staged.sha256,
        width: staged.width,
        height: staged.height,
        isPublic: attrs.isPublic,
        storageKey,
        publicStorageKey,
        // Set for every new row: the copy's digest, or the original's when there is nothing to hide (public-copy.ts).
        publicSha256: staged.publicCopy?.sha256 ?? staged.sha256,
        expiresAt,
        tags: attrs.tags ?? [],
        customMeta: attrs.customMeta ?? {},
        ...(staged.video ? { meta: videoMeta(staged.video) } : {}),
      }).returning();
      // Its webhook deliveries (`file.uploaded`, modules/webhooks) commit with the row as well.
      hooked = (await emitWebhookEvent(tx, owner.userId, 'file.uploaded', fileEventData(row as FileRow))).length > 0;
      // Its `derive` job (eager presets) commits or rolls back with the row: never one without the other.
      if (derivable) await enqueueDerive(tx, { id: staged.id, userId: owner.userId }, attrs.transformations);
      if (renditionJobs.length) await enqueueJobs(tx, renditionJobs);
      return row as FileRow;
    }).then(async (row) => {
      // Committed; the bytes were already stored: this upload's own copy goes (a crash here
      // leaves it to the orphan sweep). Never a key the row holds.
      const redundant = [staged.key, staged.publicCopy?.key].filter((k): k is string => !!k && k !== row.storageKey && k !== row.publicStorageKey);
      for (const key of redundant) await discardStaged(deps, { key });
      deps.metrics.uploads.inc();
      deps.metrics.uploadBytes.inc(inspection.size);
      deps.usage.record(owner.userId, { uploads: 1, uploadBytes: inspection.size }); // the usage page's daily chart
      // Its jobs are committed: claim them now, not at the next poll (a derive job alone waits
      // for this process's uploads to end, runner.ts `background`).
      if (derivable || renditionJobs.length || hooked) deps.queue.wake(!renditionJobs.length && !hooked);
      return row;
    });
  } catch (err) {
    // The connection lost mid-transaction: whether its COMMIT landed is unknown, so the bytes stay
    // (a committed row without them is a file that 404s); if none holds them, the orphan sweep
    // removes them after ABANDONED_UPLOAD_AFTER.
    if (!(err instanceof StagedClaimedElsewhere) && !isConnectionLost(err)) await discardStaged(deps, staged);
    throw err;
  }
}
