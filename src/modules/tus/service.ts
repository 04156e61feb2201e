/**
 * Resumable uploads over tus 1.0.0 (issue #22). Hand-written over our storage rather than
 * `@tus/server`: every upload here passes the same rules as `POST /api/files` through the same
 * code (limit, quota, rate limits, `decideType` sniffing, `finishStaged` + `commitFile` for the
 * row, jobs and usage), and the state those need across requests and processes — the first
 * bytes for sniffing, the S3 parts, a per-upload lease, whether the running SHA-256 was kept
 * (platform/resumable-sha256.ts) — lives in Postgres. @tus/server's stores keep their state in `.info`
 * files/objects and take no hook between receiving bytes and storing them (to sniff and refuse
 * the first chunk, or hash as bytes pass).
 */
import { createHash } from 'node:crypto';
import { and, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import type { AppDeps } from '../../deps';
import { AppError, fileTooLarge, gone, isDatabaseUnavailable, isStorageUnavailable, notFound, unsupportedMediaType, validationError } from '../../errors';
import { randomString } from '../../lib/random';
import { collectYoungGarbage } from '../../platform/memory';
import { checkEagerKinds, checkQuota, commitFile, finishStaged, quotaRoom, StagedClaimedElsewhere, type UploadOwner } from '../files/ingest';
import { isDerivable } from '../files/derivable';
import { decideType, PROBE_BYTES } from '../files/inspect';
import { newFileId } from '../files/names';
import { declaredTypeOf, SNIFF_BYTES } from '../files/sniff';
import { truncationCheckFor } from '../files/truncation';
import type { FileRow } from '../files/table';
import { parseEagerTransformations, parseUploadAttrs, prepareUpload, type UploadPolicy } from '../files/upload';
import { releaseUploadToken } from '../files/presign';
import { users } from '../users/table';
import { tusFinished, tusUploads, type TusFinishedRow, type TusUploadRow } from './table';
import { openUploads } from './reserved';
import { chunksOf, type PendingChunk, type TusStore } from './store';

/**
 * How long one PATCH holds an upload without renewing it: a running PATCH renews every third
 * of it, so one whose process crashed frees the upload for the client's retry within this.
 */
export const LEASE_MS = 30_000;
/** A young-generation collection every this many bytes of a chunk (files/inspect.ts does the same). */
const GC_EVERY_BYTES = 16 * 1024 * 1024;

export const chunkError = (status: 409 | 412 | 423 | 460, message: string) =>
  new AppError(status === 409 ? 'CONFLICT' : status === 412 ? 'PRECONDITION_FAILED' : status === 423 ? 'LOCKED' : 'CHECKSUM_MISMATCH', status, message);

/** `Upload-Metadata`: comma-separated `key base64value` pairs (value optional). */
export function parseMetadata(raw: string | null): Record<string, string> {
  // No prototype: a client's key (`__proto__`, `constructor`, …) is just another key.
  const out: Record<string, string> = Object.create(null);
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    // Strict base64 as tusd reads it (padded, whole quanta): `Y` or `YQ=` decoded to something, or nothing, without a word.
    if (!key || extra !== undefined || (value !== undefined && !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value))) {
      throw validationError('Upload-Metadata must be comma-separated `key base64value` pairs.', [{ path: '/Upload-Metadata', message: `bad pair: ${pair.trim().slice(0, 64)}` }]);
    }
    const field = `/Upload-Metadata/${key.slice(0, 64)}`;
    // One value per key, as a query parameter or form field: which of two would count is a guess.
    if (key in out) throw validationError(`Upload-Metadata gives ${key.slice(0, 64)} more than once.`, [{ path: field, message: 'given more than once' }]);
    const text = value ? utf8OrNull(Buffer.from(value, 'base64')) : '';
    if (text === null) throw validationError(`Upload-Metadata ${key.slice(0, 64)} is not UTF-8 text once decoded.`, [{ path: field, message: 'not UTF-8' }]);
    // No input takes a NUL (the database refuses it in text: it was a 500).
    if (text.includes('\u0000')) throw validationError(`Upload-Metadata ${key.slice(0, 64)} holds a NUL byte; no input accepts one.`, [{ path: field, message: 'contains a NUL byte' }]);
    out[key] = text;
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** Strict UTF-8: bytes that are not text are null (refused), not replaced with U+FFFD. */
function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The file attributes from the metadata: `name`/`filename`, `type`/`filetype` (checked against
 * the sniffed type), `folder`, `is_public` or `visibility` (`public`/`private`), `expires_in` or
 * `expires_at`, `tags` (comma-separated), `metadata` (a JSON object), `transformations` (eager,
 * `|`-separated): the same fields and checks as the other upload routes.
 * Other keys (Uppy sends `relativePath`…) are ignored, as tusd does.
 */
function attrsOf(deps: AppDeps, meta: Record<string, string>, policy: UploadPolicy, defaults: { isPublic: boolean; expiresIn: number | null }) {
  // Two names for one thing: both may come (Uppy sends name and filename alike) only when they agree.
  for (const [a, b] of [['is_public', 'visibility'], ['name', 'filename'], ['type', 'filetype']] as const) {
    const [va, vb] = [meta[a], meta[b]];
    const agree = a === 'is_public' ? false : va === vb;
    if (va !== undefined && vb !== undefined && !agree) {
      throw validationError(`Upload-Metadata gives both ${a} and ${b}${a === 'is_public' ? '' : ', with different values'}: send one.`, [{ path: `/Upload-Metadata/${b}`, message: `not together with ${a}` }]);
    }
  }
  // A key without a value (the protocol allows one) says nothing for a yes/no: it is not read as the default.
  if (meta.is_public === '') throw validationError('Upload-Metadata is_public needs a value: true or false.', [{ path: '/Upload-Metadata/is_public', message: 'has no value' }]);
  let isPublic = meta.is_public;
  if (isPublic === undefined && meta.visibility !== undefined) {
    if (meta.visibility !== 'public' && meta.visibility !== 'private') {
      throw validationError('visibility must be `public` or `private`.', [{ path: '/Upload-Metadata/visibility', message: meta.visibility }]);
    }
    isPublic = String(meta.visibility === 'public');
  }
  const attrs = parseUploadAttrs({
    folder: meta.folder, is_public: isPublic, expires_in: meta.expires_in, expires_at: meta.expires_at, tags: meta.tags, metadata: meta.metadata,
  }, deps.clock.now(), policy, defaults);
  const transformations = meta.transformations ? parseEagerTransformations(deps, [meta.transformations]) : [];
  const declared = declaredTypeOf(meta.type ?? meta.filetype);
  return {
    name: meta.name ?? meta.filename, folder: attrs.folder, is_public: attrs.isPublic,
    expires_at: attrs.expiresAt?.toISOString() ?? null, ...(attrs.expiresIn !== undefined ? { expires_in: attrs.expiresIn } : {}), declared, allowed_types: policy.allowedTypes ? [...policy.allowedTypes] : undefined,
    ...(attrs.tags ? { tags: attrs.tags } : {}), ...(attrs.customMeta ? { custom_meta: attrs.customMeta } : {}),
    ...(transformations.length ? { transformations } : {}),
  };
}

export interface CreateInput {
  length: number | null;
  metadata: string | null;
  policy: UploadPolicy;
  /** From a presigned URL: its token's digest (the upload URL is then the credential). */
  token: string | null;
}

/** Creates an upload after the same checks as any upload (limit, quota); the caller counted the rate limits. */
export async function createUpload(deps: AppDeps, store: TusStore, owner: UploadOwner, input: CreateInput): Promise<TusUploadRow> {
  const ctx = await prepareUpload(deps, owner, input.policy);
  if (input.length !== null && input.length > ctx.maxBytes) throw fileTooLarge(ctx.maxBytes);
  // As an empty file on the other routes: nothing to store (it was created, then could never end).
  if (input.length === 0) throw unsupportedMediaType('The file is empty (Upload-Length: 0): there is nothing in it to upload.', { detected: 'application/x-empty' });
  const attrs = { ...attrsOf(deps, parseMetadata(input.metadata), input.policy, ctx.defaults), ...(input.token ? { upload_token: input.token } : {}) };
  await checkQuota(deps, owner, input.length ?? 0, await openUploads(deps, owner.userId));
  const id = randomString(32);
  const fileId = newFileId();
  const storageKey = `${owner.userId}/${fileId}`;
  const { s3UploadId } = await store.begin(storageKey);
  const [row] = await deps.db.insert(tusUploads).values({
    id, userId: owner.userId, fileId, storageKey, length: input.length, maxBytes: ctx.maxBytes,
    metadata: input.metadata, attrs, s3UploadId, viaToken: input.token !== null,
    expiresAt: new Date(deps.clock.now() + deps.config.abandonedUploadAfterMs),
  }).returning();
  return row as TusUploadRow;
}

/** The live upload `id` (404 unknown, 410 past its expiry). */
export async function getUpload(deps: AppDeps, id: string): Promise<TusUploadRow> {
  if (!/^[A-Za-z0-9]{32}$/.test(id)) throw notFound('Upload');
  const [row] = await deps.db.select().from(tusUploads).where(eq(tusUploads.id, id));
  if (!row) throw notFound('Upload');
  if (row.expiresAt.getTime() <= deps.clock.now()) throw gone('This upload has expired.');
  return row;
}

/**
 * Termination: removes the upload under its lease, so no PATCH is writing to bytes being removed
 * (one did, and its rename then failed: a 500). False while a PATCH holds the lease; 404 when the
 * upload is gone meanwhile (finished by that PATCH, or terminated by another request).
 */
export async function terminateUpload(deps: AppDeps, store: TusStore, row0: TusUploadRow): Promise<boolean> {
  const now = new Date(deps.clock.now());
  const [row] = await deps.db.update(tusUploads)
    .set({ lockId: randomString(16), lockedUntil: new Date(now.getTime() + LEASE_MS) })
    .where(and(eq(tusUploads.id, row0.id), or(isNull(tusUploads.lockId), lt(tusUploads.lockedUntil, now))))
    .returning();
  if (!row) {
    await getUpload(deps, row0.id); // 404 or 410 when it is no longer there to terminate
    return false;
  }
  await removeUpload(deps, store, row);
  return true;
}

/** Removes an unfinished upload: its bytes (S3 multipart and tail too) and its row. */
export async function removeUpload(deps: AppDeps, store: TusStore, row: TusUploadRow): Promise<void> {
  await store.discard(row);
  // Whole, the store may have made it the object already (its file was never committed).
  if (row.length !== null && row.offset === row.length) await deps.storage.delete(row.storageKey);
  await deps.db.delete(tusUploads).where(eq(tusUploads.id, row.id));
  // Refused, terminated or abandoned: the presigned URL that started it may be used again (until
  // it expires), as after a refused upload on the other routes; only a stored file spends it.
  if (row.attrs.upload_token) await releaseUploadToken(deps, row.attrs.upload_token);
}

/** Sets a deferred length (`Upload-Length` on a later request), within the limit and the quota. */
export async function setLength(deps: AppDeps, owner: UploadOwner, row: TusUploadRow, length: number): Promise<TusUploadRow> {
  if (row.length !== null) {
    if (row.length !== length) throw chunkError(409, `Upload-Length is already ${row.length}.`);
    return row;
  }
  if (length > row.maxBytes) throw fileTooLarge(row.maxBytes);
  if (length < row.offset) throw chunkError(409, `Upload-Length ${length} is below the ${row.offset} bytes already received.`);
  if (length === 0) throw unsupportedMediaType('The file is empty (Upload-Length: 0): there is nothing in it to upload.', { detected: 'application/x-empty' });
  await checkQuota(deps, owner, length, await openUploads(deps, owner.userId, row.id));
  await deps.db.update(tusUploads).set({ length }).where(eq(tusUploads.id, row.id));
  return { ...row, length };
}

export interface ChunkInput {
  offset: number;
  /** `Upload-Length` sent with this PATCH (a deferred length being set), or null. */
  length: number | null;
  body: ReadableStream<Uint8Array> | null;
  /** `Upload-Checksum: sha256 <base64>`, already parsed. */
  checksum: Buffer | null;
  /** The body's `Content-Length`, when sent. */
  declared: number | null;
  /** Told each chunk's size (the `upload_bytes` rate limit counts bytes as they arrive); may throw 429. */
  onBytes?: (bytes: number) => Promise<void>;
  /** Aborted by a termination (DELETE) of this upload: the chunk stops being read and is dropped. */
  interrupt?: AbortSignal;
}

export type ChunkResult = { row: TusUploadRow; file: FileRow | null };

/**
 * Appends one PATCH (or creation-with-upload) body at `offset`. Holds the upload's lease while
 * it runs. 413 past the length or limit and 415 for a refused type remove the whole upload;
 * a checksum mismatch (460) forgets the chunk; a dropped connection keeps what arrived (unless
 * a checksum was sent: unverifiable bytes are dropped). The last byte commits the file.
 */
export async function appendChunk(deps: AppDeps, store: TusStore, owner: UploadOwner, row0: TusUploadRow, input: ChunkInput): Promise<ChunkResult> {
  const lockId = randomString(16);
  const now = new Date(deps.clock.now());
  const [locked] = await deps.db.update(tusUploads)
    .set({ lockId, lockedUntil: new Date(now.getTime() + LEASE_MS) })
    .where(and(eq(tusUploads.id, row0.id), or(isNull(tusUploads.lockId), lt(tusUploads.lockedUntil, now))))
    .returning();
  if (!locked) {
    // When the holder's lease ends: a request whose server died holds it that long.
    const wait = Math.max(1, Math.ceil(((row0.lockedUntil?.getTime() ?? now.getTime()) - now.getTime()) / 1000));
    throw new AppError('LOCKED', 423, `Another request is writing to this upload; retry within ${wait} s.`, { retry_after: wait }, { 'retry-after': String(wait) });
  }
  let row: TusUploadRow = locked;
  const renew = setInterval(() => {
    deps.db.update(tusUploads).set({ lockedUntil: new Date(deps.clock.now() + LEASE_MS) })
      .where(and(eq(tusUploads.id, row.id), eq(tusUploads.lockId, lockId)))
      .catch((err: unknown) => deps.log.warn({ err }, 'could not renew a tus upload lease'));
  }, LEASE_MS / 3);
  const lease = { id: lockId, released: false };
  try {
    if (input.offset !== row.offset) throw chunkError(409, `Upload-Offset ${input.offset} does not match the ${row.offset} bytes received.`);
    // Whole already (its type decided when the last byte was saved): the request that brought that
    // byte died before the file was committed, perhaps after the store made the object.
    // (Not with an S3 tail: only `receive` sends it as the last part.)
    if (row.length !== null && row.offset === row.length && row.contentType !== null && row.tailSize === 0) {
      if (input.length !== null && input.length !== row.length) throw chunkError(409, `Upload-Length is already ${row.length}.`);
      if (input.body !== null && input.declared !== 0) throw chunkError(409, `All ${row.length} bytes of this upload arrived: send no body (Content-Length: 0) to finish it.`);
      return { row, file: await finish(deps, store, owner, row, null, lease) };
    }
    // An `expires_at` passed since the creation: the file could never be stored, so the upload
    // ends now, not at its last byte. Under the lease, as below.
    const expiresAt = row.attrs.expires_in === undefined && row.attrs.expires_at ? Date.parse(row.attrs.expires_at) : null;
    if (expiresAt !== null && expiresAt <= now.getTime()) {
      await removeUpload(deps, store, row);
      throw validationError(`The upload's expires_at (${row.attrs.expires_at}) has passed: its file could never be stored, and the upload was removed. Upload again with a later time, or with expires_in (it counts from when the file is stored).`,
        [{ path: '/Upload-Metadata/expires_at', message: 'passed during the upload' }]);
    }
    if (input.length !== null) row = await setLength(deps, owner, row, input.length);
    const limit = row.length ?? row.maxBytes;
    if (input.declared !== null && row.offset + input.declared > limit) {
      // Over the length or the limit before a byte is read: the upload can never end well. Under the
      // lease, so no PATCH in progress has its bytes removed under it.
      await removeUpload(deps, store, row);
      throw new AppError('FILE_TOO_LARGE', 413, `This chunk would take the upload past ${limit} bytes.`, { max_bytes: limit });
    }
    return await receive(deps, store, owner, row, input, lease, row.length === null ? await reserveRoom(deps, owner, row, input.declared) : null);
  } finally {
    clearInterval(renew);
    // Saving the offset already released it (one statement per PATCH fewer); otherwise here.
    if (!lease.released) {
      await deps.db.update(tusUploads).set({ lockId: null, lockedUntil: null })
        .where(and(eq(tusUploads.id, row.id), eq(tusUploads.lockId, lockId))).catch(() => {});
    }
  }
}

/**
 * The bound of a deferred-length chunk: what the quota leaves beside the account's files and
 * its other uploads under way, reserved for this PATCH (its offset plus the declared chunk, or
 * all of that room when the size is not declared) while it holds the lease. Computed and
 * written under the account row's lock, so two such PATCHes at once see each other: each took
 * the same room, and three parked 9 MB under a 4 MiB quota.
 */
async function reserveRoom(deps: AppDeps, owner: UploadOwner, row: TusUploadRow, declared: number | null): Promise<Awaited<ReturnType<typeof quotaRoom>>> {
  return deps.db.transaction(async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, owner.userId)).for('no key update');
    const room = await quotaRoom(deps, owner, await openUploads(deps, owner.userId, row.id, tx), tx);
    const reserved = Math.min(room.bytes, row.maxBytes, declared === null ? Infinity : row.offset + declared);
    await tx.update(tusUploads).set({ reserved }).where(eq(tusUploads.id, row.id));
    return { ...room, bytes: reserved };
  });
}

/** This PATCH's hold on its upload (`lock_id`), and whether a statement has let it go. */
interface Lease {
  id: string;
  released: boolean;
}

/**
 * `room`: for a deferred length, what the quota leaves beside the account's files and its other
 * uploads under way. Its bytes were not counted at creation, so without this bound each such
 * upload could park up to the upload limit past the quota until it expired.
 */
async function receive(
  deps: AppDeps, store: TusStore, owner: UploadOwner, row: TusUploadRow, input: ChunkInput, lease: Lease, room: Awaited<ReturnType<typeof quotaRoom>> | null,
): Promise<ChunkResult> {
  const limit = row.length ?? row.maxBytes;
  let overQuota: AppError | undefined;
  const chunkHash = input.checksum ? createHash('sha256') : null;
  let head = Buffer.from(row.head, 'base64');
  let contentType = row.contentType;
  let terminal: AppError | undefined;
  let received = 0;
  const typeOptions = { allowedTypes: deps.config.allowedTypes, restrictTypes: row.attrs.allowed_types, declared: row.attrs.declared };

  const reader = input.body?.getReader();
  input.interrupt?.addEventListener('abort', () => void reader?.cancel('terminated').catch(() => {}), { once: true });
  const checked = new ReadableStream<Uint8Array>({
    async pull(c) {
      const next = reader ? await reader.read() : { done: true as const, value: undefined };
      if (next.done) return c.close();
      const chunk = next.value;
      try {
        if (row.offset + received + chunk.byteLength > limit) {
          throw (terminal = row.length === null ? fileTooLarge(row.maxBytes) : new AppError('FILE_TOO_LARGE', 413, `The upload sends more than its Upload-Length of ${row.length} bytes.`, { max_bytes: row.length }));
        }
        if (room && row.offset + received + chunk.byteLength > room.bytes) {
          throw (overQuota = room.refuse(`This chunk would take the upload past the ${room.bytes} bytes your storage quota leaves: it was discarded, and the upload keeps its ${row.offset} bytes. Free some space (or end the upload with DELETE) and resume.`));
        }
        await input.onBytes?.(chunk.byteLength);
        // As the streamed inspector does: the body's chunks are garbage at once, collect them young.
        if (Math.floor((received + chunk.byteLength) / GC_EVERY_BYTES) > Math.floor(received / GC_EVERY_BYTES)) collectYoungGarbage();
        received += chunk.byteLength;
        if (head.byteLength < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.byteLength)]);
        if (!contentType && head.byteLength >= SNIFF_BYTES) contentType = await decide(head, false);
        chunkHash?.update(chunk);
        c.enqueue(chunk);
      } catch (err) {
        await reader?.cancel(err).catch(() => {});
        throw err;
      }
    },
    cancel: (reason) => reader?.cancel(reason),
  }, { highWaterMark: 0 });
  const decide = async (bytes: Uint8Array, complete: boolean) => {
    try {
      const type = await decideType(bytes, complete, typeOptions);
      // Eager transformations the type cannot take: refused now, not after the last byte.
      checkEagerKinds(type.startsWith('video/'), isDerivable(type), type, row.attrs.transformations);
      return type;
    } catch (err) {
      if (err instanceof AppError) terminal = err;
      throw err;
    }
  };

  // 'rehash': some earlier chunk went to a process without the running hash; the digest is then taken at completion.
  const expect = input.declared === null ? null : { bytes: input.declared, completes: row.length !== null && row.offset + input.declared === row.length };
  const pending = await store.write(row, checked, row.hashState !== 'rehash', expect);
  const fail = async (err: unknown, whole: boolean): Promise<never> => {
    await pending.reject().catch(() => {});
    if (whole) await removeUpload(deps, store, row);
    throw err;
  };
  if (terminal) return fail(terminal, true);
  if (overQuota) return fail(overQuota, false);
  if (input.interrupt?.aborted) return fail(gone('This upload was terminated (DELETE) while this chunk was being sent.'), false);
  if (pending.error) {
    // A 429 or a dropped/idle client: keep what arrived (the client resumes from HEAD's offset),
    // unless it came with a checksum it no longer can match.
    // Storage failing mid-chunk leaves bytes hashed but not stored: drop the chunk then too.
    if (chunkHash || received === 0 || pending.bytes !== received) return fail(resumable(pending.error, false), false);
    await save(deps, row, pending, false, { head, contentType }, lease);
    throw resumable(pending.error, true);
  }
  if (chunkHash && input.checksum && !chunkHash.digest().equals(input.checksum)) {
    return fail(chunkError(460, 'Upload-Checksum does not match the bytes received; the chunk was discarded.'), false);
  }
  const offset = row.offset + received;
  const complete = row.length !== null && offset === row.length;
  if (complete && !contentType) {
    try {
      contentType = await decide(head, true);
    } catch (err) {
      return fail(err, true);
    }
  }
  // The last chunk keeps its lease until the file is committed (and the row gone).
  const saved = await save(deps, row, pending, complete, { head, contentType }, complete ? null : lease);
  if (!complete) return { row: saved, file: null };
  return { row: saved, file: await finish(deps, store, owner, saved, saved.hashState === 'rehash' ? null : pending.sha256, lease) };
}

/** A stalled chunk's 408 says what a tus client needs: whether the bytes were kept, and where to resume (the generic one said nothing was kept). */
function resumable(err: unknown, kept: boolean): unknown {
  if (!(err instanceof AppError) || err.code !== 'REQUEST_TIMEOUT') return err;
  const seconds = err.details?.idle_timeout_s;
  const what = kept ? 'what arrived is kept' : 'this chunk was dropped (its checksum cannot be verified)';
  return new AppError('REQUEST_TIMEOUT', 408, `No bytes arrived for ${seconds} s: ${what}. Resume from the Upload-Offset a HEAD gives.`, err.details, err.headers);
}

async function save(
  deps: AppDeps, row: TusUploadRow, pending: PendingChunk, complete: boolean, s: { head: Buffer; contentType: string | null }, lease: Lease | null,
): Promise<TusUploadRow> {
  const { parts, tailSize } = await pending.accept(complete);
  // An empty chunk changes no hash; otherwise no digest means this process lacked the bytes before it.
  const rehash = row.hashState === 'rehash' || (pending.bytes > 0 && pending.sha256 === null);
  const values = {
    offset: row.offset + pending.bytes, parts, tailSize, contentType: s.contentType,
    head: s.head.toString('base64'), hashState: rehash ? 'rehash' : null,
  };
  if (!lease) {
    await deps.db.update(tusUploads).set(values).where(eq(tusUploads.id, row.id));
    return { ...row, ...values };
  }
  // The lease goes with the offset, if it is still this PATCH's (one that ran out may be another's now).
  const mine = sql`${tusUploads.lockId} = ${lease.id}`;
  await deps.db.update(tusUploads).set({
    ...values,
    lockId: sql`case when ${mine} then null else ${tusUploads.lockId} end`,
    lockedUntil: sql`case when ${mine} then null else ${tusUploads.lockedUntil} end`,
  }).where(eq(tusUploads.id, row.id));
  lease.released = true;
  return { ...row, ...values };
}

/**
 * The upload is whole: make it the object, re-read it for what the streamed inspector would
 * have checked on the way (truncated image structure, the probe's head), then the row, jobs
 * and usage through `finishStaged` and `commitFile`, like every upload. The tus row goes in the
 * file row's transaction, under this request's lease: a crash before it leaves the upload whole
 * and unfinished, to be finished again (`finishSaved`), never an upload lost or a file twice.
 */
async function finish(deps: AppDeps, store: TusStore, owner: UploadOwner, row: TusUploadRow, known: string | null, lease: Lease): Promise<FileRow> {
  try {
    await store.complete(row);
  } catch (err) {
    // Neither its part nor the object is there (a failed finish removed the bytes): it can never end.
    if (err instanceof AppError && err.status === 410) {
      await removeUpload(deps, store, row);
      lease.released = true;
    }
    throw err;
  }
  const key = row.storageKey;
  const contentType = row.contentType as string;
  const size = row.offset;
  try {
    const check = truncationCheckFor(contentType);
    // The whole file is read back only when there is something to follow through it.
    const rehash = known === null ? createHash('sha256') : null;
    const headParts: Uint8Array[] = [];
    let headBytes = 0;
    const stream = await deps.storage.get(key, check || rehash || size === 0 ? undefined : { start: 0, end: Math.min(size, PROBE_BYTES) - 1 });
    for await (const chunk of stream ? chunksOf(stream) : []) {
      check?.push(chunk);
      rehash?.update(chunk);
      if (headBytes < PROBE_BYTES) {
        const part = chunk.slice(0, PROBE_BYTES - headBytes);
        headParts.push(part);
        headBytes += part.byteLength;
      }
    }
    const cut = check?.end();
    if (cut) throw unsupportedMediaType(`The image cannot be decoded: ${cut}.`, { detected: contentType, reason: cut });
    const inspection = { size, contentType, head: Buffer.concat(headParts, headBytes), complete: size === headBytes };
    const sha256 = known ?? (rehash as ReturnType<typeof createHash>).digest('hex');
    const staged = await finishStaged(deps, { id: row.fileId, key, name: row.attrs.name, inspection, sha256 });
    const file = await commitFile(deps, owner, staged, {
      name: row.attrs.name, folder: row.attrs.folder, isPublic: row.attrs.is_public,
      expiresAt: row.attrs.expires_at ? new Date(row.attrs.expires_at) : null,
      ...(row.attrs.expires_in !== undefined ? { expiresIn: row.attrs.expires_in } : {}),
      ...(row.attrs.tags ? { tags: row.attrs.tags } : {}), ...(row.attrs.custom_meta ? { customMeta: row.attrs.custom_meta } : {}),
      ...(row.attrs.transformations ? { transformations: row.attrs.transformations } : {}),
      claim: async (tx) => {
        const [mine] = await tx.delete(tusUploads).where(and(eq(tusUploads.id, row.id), eq(tusUploads.lockId, lease.id))).returning({ id: tusUploads.id });
        if (!mine) return false;
        await tx.insert(tusFinished).values({ id: row.id, userId: row.userId, fileId: row.fileId, length: size, viaToken: row.viaToken, expiresAt: row.expiresAt })
          .onConflictDoNothing();
        return true;
      },
    });
    lease.released = true;
    return file;
  } catch (err) {
    // Its lease ran out and another request finished it: that file stands.
    if (err instanceof StagedClaimedElsewhere) throw chunkError(423, 'Another request finished this upload meanwhile; HEAD tells its file.');
    // The storage or the database down (a 503): kept whole, to be finished once it is back (a
    // restart after a crash may find S3 not up yet; a COMMIT whose answer was lost may have
    // landed, and then the file holds these bytes).
    if (isStorageUnavailable(err) || isDatabaseUnavailable(err)) throw err;
    // The row first: if that fails (the database down), row and bytes stay together, to be finished again.
    await deps.db.delete(tusUploads).where(eq(tusUploads.id, row.id));
    lease.released = true;
    await deps.storage.delete(key).catch(() => {});
    // Refused at the end (quota, a cut image): no file, so a presigned URL that started it works again.
    if (row.attrs.upload_token) await releaseUploadToken(deps, row.attrs.upload_token).catch(() => {});
    throw err;
  }
}

/**
 * Finishes an upload whose bytes are all saved but which has no file: the request that brought
 * the last byte died (a crash) before committing it. A HEAD, an empty PATCH or the sweep
 * (`finishStranded`) asks for it; under the upload's lease, so only one request finishes it.
 */
export async function finishSaved(deps: AppDeps, store: TusStore, owner: UploadOwner, row: TusUploadRow): Promise<ChunkResult> {
  return appendChunk(deps, store, owner, row, { offset: row.offset, length: null, body: null, checksum: null, declared: 0 });
}

/** Finishes what crashes left whole (`finishSaved`), for uploads whose client never asks again; returns how many. */
export async function finishStranded(deps: AppDeps, store: TusStore, limit = 100): Promise<number> {
  const now = new Date(deps.clock.now());
  const rows = await deps.db.select().from(tusUploads).where(and(
    eq(tusUploads.offset, sql`${tusUploads.length}`), gt(tusUploads.expiresAt, now),
    or(isNull(tusUploads.lockId), lt(tusUploads.lockedUntil, now)),
  )).limit(limit);
  let n = 0;
  for (const row of rows) {
    const [u] = await deps.db.select({ isPromoted: users.isPromoted }).from(users).where(eq(users.id, row.userId));
    if (!u) continue;
    try {
      await finishSaved(deps, store, { userId: row.userId, isPromoted: u.isPromoted }, row);
      n++;
    } catch (err) {
      // Refused (and removed), or taken by a client's request meanwhile: nothing left to do here.
      // Anything else (the storage or database down) is tried again at the next pass; the rest go on.
      if (!(err instanceof AppError)) deps.log.warn({ err, upload_id: row.id }, 'could not finish a tus upload a crash left without its file');
    }
  }
  return n;
}

/** A finished upload (its URL asked about again), or null: unknown, or past the upload URL's expiry. */
export async function getFinished(deps: AppDeps, id: string): Promise<TusFinishedRow | null> {
  if (!/^[A-Za-z0-9]{32}$/.test(id)) return null;
  const [row] = await deps.db.select().from(tusFinished).where(and(eq(tusFinished.id, id), gt(tusFinished.expiresAt, new Date(deps.clock.now()))));
  return row ?? null;
}

/** Removes uploads past their expiry (the sweep of tus/jobs.ts); returns how many. */
export async function expireUploads(deps: AppDeps, store: TusStore, limit = 500): Promise<number> {
  await deps.db.delete(tusFinished).where(lt(tusFinished.expiresAt, new Date(deps.clock.now())));
  const rows = await deps.db.select().from(tusUploads).where(lt(tusUploads.expiresAt, new Date(deps.clock.now()))).limit(limit);
  let n = 0;
  for (const row of rows) {
    // Not one a PATCH is writing right now (its lease is live): the next sweep takes it.
    const [taken] = await deps.db.update(tusUploads).set({ lockId: 'expiring', lockedUntil: sql`now() + interval '10 minutes'` })
      .where(and(eq(tusUploads.id, row.id), or(isNull(tusUploads.lockId), lt(tusUploads.lockedUntil, new Date(deps.clock.now())))))
      .returning({ id: tusUploads.id });
    if (!taken) continue;
    await removeUpload(deps, store, row);
    n++;
  }
  return n;
}
