/**
 * The two upload styles of API.md §4 on top of `ingest`: multipart (several files, fields
 * anywhere) and raw body. Limits are enforced before reading (`Content-Length`) and while
 * streaming; any failure or disconnect removes whatever was staged.
 */
import type { AppDeps } from '../../deps';
import { AppError, internalError, payloadTooLarge, validationError } from '../../errors';
import { requestIdOf } from '../../http';
import { parseMultipart } from './multipart';
import { normalizeFolder, decodeHeaderFileName } from './names';
import { declaredTypeOf } from './sniff';
import {
  checkQuota, commitFile, discardStaged, stageFile, uploadLimitFor, type CommitAttrs, type StagedFile, type UploadOwner,
} from './ingest';
import type { FileRow } from './table';

/** Files accepted in one multipart request. */
export const MAX_FILES_PER_REQUEST = 20;
const MAX_EXPIRES_IN_S = 10 * 365 * 24 * 3600;

export interface UploadFailure {
  name: string;
  error: string;
  message: string;
  /** The original error, for answering a single-file request with its own status and details. */
  cause: AppError;
}

export interface UploadOutcome {
  files: FileRow[];
  errors: UploadFailure[];
}

/** Restrictions a presigned upload URL adds to the caller's own. */
export interface UploadPolicy {
  maxBytes?: number;
  allowedTypes?: readonly string[];
  folder?: string;
  isPublic?: boolean;
  /** Streamed-byte accounting for the `upload_bytes` rate limit (chunked uploads): may throw 429 mid-stream. */
  onBytes?: (bytes: number) => Promise<void>;
}

const truthy = (v: string) => ['true', '1', 'yes', 'on'].includes(v.toLowerCase());

/** `folder`, `is_public`, `expires_in` / `expires_at` from form fields or the query string. */
export function parseUploadAttrs(input: Record<string, string | undefined>, now: number, policy: UploadPolicy = {}): CommitAttrs {
  const folder = policy.folder ?? normalizeFolder(input.folder);
  const isPublic = policy.isPublic ?? (input.is_public === undefined ? true : truthy(input.is_public));
  let expiresAt: Date | null = null;
  if (input.expires_in !== undefined && input.expires_in !== '') {
    const s = Number(input.expires_in);
    if (!Number.isInteger(s) || s < 1 || s > MAX_EXPIRES_IN_S) {
      throw validationError('expires_in must be a whole number of seconds from 1 to 315360000.', [{ path: '/expires_in', message: 'out of range' }]);
    }
    expiresAt = new Date(now + s * 1000);
  } else if (input.expires_at) {
    const t = Date.parse(input.expires_at);
    if (Number.isNaN(t) || t <= now) throw validationError('expires_at must be a future ISO-8601 time.', [{ path: '/expires_at', message: 'invalid' }]);
    expiresAt = new Date(t);
  }
  return { folder, isPublic, expiresAt, name: input.name };
}

/**
 * A per-file failure for the response. An unexpected error (storage or database down) becomes
 * that file's INTERNAL_ERROR, logged, so the other files of the request are still committed
 * or discarded normally and nothing is left orphaned.
 */
function toFailure(deps: AppDeps, request: Request, name: string, err: unknown): UploadFailure {
  if (err instanceof AppError) return { name, error: err.code, message: err.message, cause: err };
  const requestId = requestIdOf(request);
  deps.log.error({ err, request_id: requestId, name }, 'upload of one file failed');
  const cause = internalError(requestId);
  return { name, error: cause.code, message: cause.message, cause };
}

function limitOf(deps: AppDeps, owner: UploadOwner, policy: UploadPolicy) {
  const plan = uploadLimitFor(deps, owner);
  return policy.maxBytes ? Math.min(plan, policy.maxBytes) : plan;
}

function refuseByLength(request: Request, maxBytes: number): number | undefined {
  const header = request.headers.get('content-length');
  const declared = header === null ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) throw payloadTooLarge(maxBytes);
  return declared;
}

/** Raw body upload (`Content-Type: <mime>`, `X-File-Name`, attributes in the query). */
export async function uploadRaw(
  deps: AppDeps, owner: UploadOwner, request: Request, query: Record<string, string | undefined>, policy: UploadPolicy = {},
): Promise<FileRow> {
  const maxBytes = limitOf(deps, owner, policy);
  const size = refuseByLength(request, maxBytes);
  const attrs = parseUploadAttrs(query, deps.clock.now(), policy);
  await checkQuota(deps, owner, size ?? 0);
  if (!request.body) throw validationError('The request body is empty.', [{ path: '/', message: 'empty body' }]);
  const staged = await stageFile(deps, owner, request.body, {
    maxBytes,
    declared: declaredTypeOf(request.headers.get('content-type')),
    size,
    allowedTypes: policy.allowedTypes,
    onBytes: policy.onBytes,
    name: decodeHeaderFileName(request.headers.get('x-file-name')),
  });
  return commitFile(deps, owner, staged, attrs);
}

/** Multipart upload: every `file`/`image` part is staged as it streams, then all are committed. */
export async function uploadMultipart(
  deps: AppDeps, owner: UploadOwner, request: Request, policy: UploadPolicy = {},
): Promise<UploadOutcome> {
  const maxBytes = limitOf(deps, owner, policy);
  // A multipart body carries up to MAX_FILES_PER_REQUEST files, so only a length beyond all of them is refused unread.
  refuseByLength(request, maxBytes * MAX_FILES_PER_REQUEST + 1024 * 1024);
  await checkQuota(deps, owner);
  if (!request.body) throw validationError('The request body is empty.', [{ path: '/', message: 'empty body' }]);

  const pending: { name: string; staged: Promise<StagedFile> }[] = [];
  const parser = parseMultipart(request.body, {
    contentType: request.headers.get('content-type') ?? '',
    maxPartBytes: maxBytes + 1,
    maxFiles: MAX_FILES_PER_REQUEST,
    onFile(part) {
      if (part.field !== 'file' && part.field !== 'image') return void part.stream.cancel();
      const staged = stageFile(deps, owner, part.stream, {
        maxBytes, declared: declaredTypeOf(part.mimeType), name: part.filename, allowedTypes: policy.allowedTypes, onBytes: policy.onBytes,
      });
      // Crossing the byte limit or the upload_bytes budget stops reading the whole request at once (API.md §4, §7).
      staged.catch((err: unknown) => {
        if (err instanceof AppError && (err.status === 413 || err.status === 429)) parser.stop(err);
      });
      pending.push({ name: part.filename ?? part.field, staged });
    },
  });

  let fields: Record<string, string>;
  try {
    fields = await parser.done;
  } catch (err) {
    await settleAndDiscard(deps, pending);
    throw err;
  }
  const settled = await Promise.allSettled(pending.map((p) => p.staged));
  if (pending.length === 0) {
    throw validationError('No file part: send the file in a part named `file` or `image`.', [{ path: '/file', message: 'missing' }]);
  }
  let attrs: CommitAttrs;
  try {
    attrs = parseUploadAttrs(fields, deps.clock.now(), policy);
  } catch (err) {
    await settleAndDiscard(deps, pending);
    throw err;
  }
  const out: UploadOutcome = { files: [], errors: [] };
  for (const [i, result] of settled.entries()) {
    const name = pending[i]!.name;
    if (result.status === 'rejected') {
      out.errors.push(toFailure(deps, request, name, result.reason));
      continue;
    }
    try {
      // `name` renames a single file; with several, each keeps its own.
      const own = pending.length === 1 ? attrs : { ...attrs, name: undefined };
      out.files.push(await commitFile(deps, owner, result.value, own)); // removes its object itself on failure
    } catch (err) {
      out.errors.push(toFailure(deps, request, name, err));
    }
  }
  return out;
}

async function settleAndDiscard(deps: AppDeps, pending: { staged: Promise<StagedFile> }[]): Promise<void> {
  const settled = await Promise.allSettled(pending.map((p) => p.staged));
  for (const r of settled) if (r.status === 'fulfilled') await discardStaged(deps, r.value);
}
