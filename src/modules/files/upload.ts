/**
 * The two upload styles of API.md §4 on top of `ingest`: multipart (several files, fields
 * anywhere) and raw body. Limits are enforced before reading (`Content-Length`) and while
 * streaming; any failure or disconnect removes whatever was staged. The account's settings
 * (limit, defaults, URL base) are read once per request by `prepareUpload`.
 */
import type { AppDeps } from '../../deps';
import type { Config } from '../../config';
import { AppError, fileTooLarge, insufficientStorage, internalError, isDiskFullError, outageOf, unknownInputs, validationError } from '../../errors';
import { requestIdOf } from '../../http';
import { parseFutureTime } from '../../lib/dates';
import { queryOf } from '../../lib/request-path';
import { getSettings, uploadLimitOf } from '../users/settings';
import { parseTransformation } from '../transform/parse';
import { openUploads } from '../tus/reserved';
import { splitRenditionSegment } from '../video/rendition';
import { guardIdleBody } from './idle';
import { parseMultipart } from './multipart';
import { normalizeFolder, decodeHeaderFileName } from './names';
import { declaredTypeOf } from './sniff';
import { parseMetaField, parseTags } from './tags';
import {
  checkQuota, commitFile, discardStaged, stageFile, type CommitAttrs, type StagedFile, type UploadOwner,
} from './ingest';
import type { FileRow } from './table';

/** Files accepted in one multipart request. */
export const MAX_FILES_PER_REQUEST = 20;
/** Room for the parts' headers and text fields in a multipart body's length. */
const MULTIPART_OVERHEAD = 1024 * 1024;

/**
 * The largest request body any route takes: a multipart upload of the most files at the largest
 * per-file limit. The runtime's own cap must admit it (it was one file's limit, so Bun refused a
 * legitimate three-file upload with a bare 413); routes enforce each account's real limits.
 */
export const largestRequestBytes = (config: Pick<Config, 'maxUploadBytes' | 'promotedMaxUploadBytes'>): number =>
  Math.max(config.maxUploadBytes, config.promotedMaxUploadBytes) * MAX_FILES_PER_REQUEST + MULTIPART_OVERHEAD;
/**
 * The multipart text fields an upload understands (API.md §4), and the part names that carry
 * a file. `name` may repeat (one per file part, by order); `transformations` may repeat.
 * This is the one list: anything else in a form is not understood.
 */
export const UPLOAD_TEXT_FIELDS = ['folder', 'name', 'is_public', 'expires_in', 'expires_at', 'transformations', 'tags', 'metadata'] as const;
export const UPLOAD_FILE_FIELDS = ['file', 'image'] as const;
/** Derivatives one upload may ask to render eagerly. */
export const MAX_EAGER_TRANSFORMATIONS = 10;
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

/** What an upload request stored and refused, and the URL base of its file objects. */
export interface UploadRun extends UploadOutcome {
  urlBase: string;
}

/** Restrictions a presigned upload URL adds to the caller's own. */
export interface UploadPolicy {
  maxBytes?: number;
  allowedTypes?: readonly string[];
  folder?: string;
  isPublic?: boolean;
  /** Streamed-byte accounting for the `upload_bytes` rate limit: may throw 429 mid-stream. */
  onBytes?: (bytes: number) => Promise<void>;
  /** File parts a multipart body may carry (default MAX_FILES_PER_REQUEST; a presigned URL: 1). */
  maxFiles?: number;
}

/** What an upload needs to know about its account, read once per request (`prepareUpload`). */
export interface UploadContext {
  /** Per-file limit: min(setting, plan[, presigned max_size]). */
  maxBytes: number;
  /** Base of the returned URLs: the account's `public_url_base`, else `PUBLIC_URL`. */
  urlBase: string;
  /** The account's `default_is_public` / `default_expires_in`, for uploads that do not say. */
  defaults: { isPublic: boolean; expiresIn: number | null };
}

/** Reads the account's settings once; every upload path (multipart, raw, presigned, any later one) starts here. */
export async function prepareUpload(deps: AppDeps, owner: UploadOwner, policy: UploadPolicy = {}): Promise<UploadContext> {
  const settings = await getSettings(deps.db, deps.config, owner.userId);
  return {
    maxBytes: uploadLimitOf(deps.config, owner.isPromoted, settings, policy.maxBytes),
    urlBase: settings?.public_url_base ?? deps.config.publicUrl,
    defaults: { isPublic: settings?.default_is_public ?? true, expiresIn: settings?.default_expires_in ?? null },
  };
}

const NO_DEFAULTS: UploadContext['defaults'] = { isPublic: true, expiresIn: null };

/** `is_public` as sent: anything but a recognised yes/no is refused, never read as "no". */
function parseBoolField(v: string, name: string): boolean {
  const lower = v.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(lower)) return true;
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  throw validationError(`${name} must be true or false.`, [{ path: `/${name}`, message: `expected true or false, got ${JSON.stringify(v.slice(0, 32))}` }]);
}

/** `Content-Length: 0`: where Bun gives no body, Deno gives an empty stream (it answered 415 `application/x-empty` there). */
const declaresNoBody = (request: Request): boolean => request.headers.get('content-length') === '0';

/** A raw body that brought no byte is no file at all (400), as when it declares none: Deno gives an empty stream where Bun gives none. */
const emptyBody = (err: unknown): unknown =>
  err instanceof AppError && err.status === 415 && err.details?.detected === 'application/x-empty'
    ? validationError('The request body is empty.', [{ path: '/', message: 'empty body' }])
    : err;

const fixedByPolicy = (field: string, message: string) => validationError(message, [{ path: `/${field}`, message: 'fixed by the presigned upload URL' }]);

/**
 * `folder`, `is_public`, `expires_in` / `expires_at` from form fields or the query string;
 * what the upload does not say comes from the account's defaults.
 */
export function parseUploadAttrs(
  input: Record<string, string | undefined>, now: number, policy: UploadPolicy = {}, defaults = NO_DEFAULTS,
): CommitAttrs {
  const sentFolder = input.folder === undefined || input.folder === '' ? undefined : normalizeFolder(input.folder, 'folder', true);
  const sentPublic = input.is_public === undefined || input.is_public === '' ? undefined : parseBoolField(input.is_public, 'is_public');
  // A presigned URL fixes these: a different value is refused, never dropped (it was stored in the policy's folder without a word).
  if (policy.folder !== undefined && sentFolder !== undefined && sentFolder !== policy.folder) {
    throw fixedByPolicy('folder', `This upload URL stores files in ${policy.folder}; leave out folder (or send that value).`);
  }
  if (policy.isPublic !== undefined && sentPublic !== undefined && sentPublic !== policy.isPublic) {
    throw fixedByPolicy('is_public', `This upload URL stores ${policy.isPublic ? 'public' : 'private'} files; leave out is_public (or send ${policy.isPublic}).`);
  }
  const folder = policy.folder ?? sentFolder ?? '/';
  const isPublic = policy.isPublic ?? sentPublic ?? defaults.isPublic;
  // Relative expiries count from when the file is stored (ingest.ts); `expiresAt` is their value now.
  let expiresIn: number | undefined = defaults.expiresIn ?? undefined;
  let expiresAt: Date | null = defaults.expiresIn === null ? null : new Date(now + defaults.expiresIn * 1000);
  if (input.expires_in !== undefined && input.expires_in !== '' && input.expires_at !== undefined && input.expires_at !== '') {
    // Two expiries: one of them would be dropped without a word (expires_in won).
    throw validationError('Send expires_in or expires_at, not both.', [{ path: '/expires_at', message: 'not together with expires_in' }]);
  }
  if (input.expires_in !== undefined && input.expires_in !== '') {
    // Decimal digits only: Number() also read `0x10`, `1e2` and ` 5` as seconds.
    const s = /^\d{1,10}$/.test(input.expires_in) ? Number(input.expires_in) : NaN;
    if (!Number.isInteger(s) || s < 0 || s > MAX_EXPIRES_IN_S) {
      throw validationError('expires_in must be a whole number of seconds from 0 (never expires) to 315360000.', [{ path: '/expires_in', message: 'must be a whole number of seconds from 0 to 315360000' }]);
    }
    // 0 says "never", overriding the account's default_expires_in.
    expiresAt = s === 0 ? null : new Date(now + s * 1000);
    expiresIn = s === 0 ? undefined : s;
  } else if (input.expires_at) {
    expiresAt = parseFutureTime(input.expires_at, 'expires_at', now); // ≤ 100 years ahead (#17.13)
    expiresIn = undefined;
  }
  const attrs: CommitAttrs = { folder, isPublic, expiresAt, name: input.name, ...(expiresIn !== undefined ? { expiresIn } : {}) };
  if (input.tags !== undefined) attrs.tags = parseTags([input.tags]);
  if (input.metadata !== undefined && input.metadata !== '') attrs.customMeta = parseMetaField(input.metadata);
  return attrs;
}

/**
 * The `transformations` of an upload (each value `|`-separated, the field or parameter may
 * repeat), validated with the delivery parser so a bad one is refused (400
 * INVALID_TRANSFORMATION) before the file is kept. Duplicates (same canonical form) collapse.
 */
export function parseEagerTransformations(deps: AppDeps, values: readonly string[]): string[] {
  const segments = values.flatMap((v) => v.split('|')).map((v) => v.trim()).filter((v) => v !== '');
  if (segments.length > MAX_EAGER_TRANSFORMATIONS) {
    throw validationError(`At most ${MAX_EAGER_TRANSFORMATIONS} transformations per upload.`, [
      { path: '/transformations', message: `${segments.length} given` },
    ]);
  }
  const { limits, presets } = deps.delivery;
  const byCanonical = new Map<string, string>();
  for (const segment of segments) {
    // `<transformations>.mp4|.webm`: an eager video rendition (modules/video); checked against the file at commit.
    const rendition = splitRenditionSegment(segment);
    const { canonical } = parseTransformation(rendition ? rendition.segment : segment, undefined, limits, presets);
    const key = rendition ? `${canonical}.${rendition.ext}` : canonical;
    if (!byCanonical.has(key)) byCanonical.set(key, segment);
  }
  return [...byCanonical.values()];
}

/**
 * A per-file failure for the response: a full disk its 507, the storage or database down its
 * 503, anything else that file's INTERNAL_ERROR, logged; the other files of the request are
 * still committed or discarded normally and nothing is left orphaned.
 */
function toFailure(deps: AppDeps, request: Request, name: string, err: unknown): UploadFailure {
  if (err instanceof AppError) return { name, error: err.code, message: err.message, cause: err };
  if (isDiskFullError(err)) return toFailure(deps, request, name, insufficientStorage());
  const outage = outageOf(err);
  if (outage) return toFailure(deps, request, name, outage);
  const requestId = requestIdOf(request);
  deps.log.error({ err, request_id: requestId, name }, 'upload of one file failed');
  const cause = internalError(requestId);
  return { name, error: cause.code, message: cause.message, cause };
}

const declaredLength = (request: Request): number | undefined => {
  const header = request.headers.get('content-length');
  return header === null ? undefined : Number(header);
};

/** A raw body is one file: a length over the limit is refused unread. */
function refuseByLength(request: Request, maxBytes: number): number | undefined {
  const declared = declaredLength(request);
  if (declared !== undefined && declared > maxBytes) throw fileTooLarge(maxBytes);
  return declared;
}

/**
 * Runs an upload request for `owner`: a multipart body (`uploadMultipart`) or a raw one
 * (`uploadRaw`). Shared by `/api/files` and presigned uploads; the route shapes the answer.
 */
export async function runUpload(
  deps: AppDeps, owner: UploadOwner, request: Request, query: Record<string, string | undefined>, policy: UploadPolicy = {},
): Promise<UploadRun> {
  const ctx = await prepareUpload(deps, owner, policy);
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    return { files: [await uploadRaw(deps, owner, request, query, ctx, policy)], errors: [], urlBase: ctx.urlBase };
  }
  return { ...(await uploadMultipart(deps, owner, request, query, ctx, policy)), urlBase: ctx.urlBase };
}

/** Raw body upload (`Content-Type: <mime>`, `X-File-Name`, attributes in the query). */
export async function uploadRaw(
  deps: AppDeps, owner: UploadOwner, request: Request, query: Record<string, string | undefined>, ctx: UploadContext, policy: UploadPolicy = {},
): Promise<FileRow> {
  const { maxBytes } = ctx;
  const size = refuseByLength(request, maxBytes);
  const attrs = parseUploadAttrs(query, deps.clock.now(), policy, ctx.defaults);
  // Read from the URL itself: `?transformations=` may repeat, and each value holds commas. Only
  // its query string: `new URL` throws on the host a client sent (`Host: a:99999`), a 500.
  const params = new URLSearchParams(queryOf(request.url));
  attrs.transformations = parseEagerTransformations(deps, params.getAll('transformations'));
  if (params.has('tags')) attrs.tags = parseTags(params.getAll('tags')); // may repeat, like `transformations`
  await checkQuota(deps, owner, size ?? 0, owner.isPromoted ? undefined : await openUploads(deps, owner.userId));
  if (!request.body || declaresNoBody(request)) throw validationError('The request body is empty.', [{ path: '/', message: 'empty body' }]);
  const staged = await stageFile(deps, owner, guardIdleBody(request.body, deps.config.uploadIdleTimeoutMs, { owned: true }), {
    maxBytes,
    declared: declaredTypeOf(request.headers.get('content-type')),
    size,
    allowedTypes: policy.allowedTypes,
    onBytes: policy.onBytes,
    name: decodeHeaderFileName(request.headers.get('x-file-name')),
  }).catch((err: unknown) => {
    throw emptyBody(err);
  });
  return commitFile(deps, owner, staged, { ...attrs, countOpenUploads: true });
}

/** The attributes a multipart upload takes as form fields or as query parameters. */
const QUERY_ATTRS = ['folder', 'is_public', 'expires_in', 'expires_at', 'metadata', 'transformations', 'tags'] as const;

const givenTwice = (name: string) => validationError(
  `${name} is given both in the query and as a form field; send it in one place.`,
  [{ in: 'body', path: `/${name}`, message: 'given both in the query and as a form field' }],
);

const isFileField = (field: string) => (UPLOAD_FILE_FIELDS as readonly string[]).includes(field);

/** Refuses a multipart text field the upload does not understand (400 naming it, with the close known name). */
function checkTextField(name: string): void {
  if ((UPLOAD_TEXT_FIELDS as readonly string[]).includes(name)) return;
  if (isFileField(name)) {
    throw validationError(`The part \`${name}\` carries no file: send it as a file part with a filename (curl -F ${name}=@photo.jpg).`, [
      { path: `/${name}`, message: 'is a text field, not a file' },
    ]);
  }
  throw unknownInputs('form field', [name], UPLOAD_TEXT_FIELDS);
}

/** `body`, counted: past `limit` bytes it fails with `tooLarge()`; each chunk is told to `onBytes` (which may throw 429). */
function meteredBody(body: ReadableStream<Uint8Array>, limit: number, tooLarge: () => AppError, onBytes?: (bytes: number) => Promise<void>): ReadableStream<Uint8Array> {
  let total = 0;
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, c) {
      total += chunk.byteLength;
      if (total > limit) throw tooLarge();
      await onBytes?.(chunk.byteLength);
      c.enqueue(chunk);
    },
  }));
}

/**
 * Multipart upload: every `file`/`image` part is staged as it streams, then all are committed.
 * Each file is named by the n-th `name` field when the form has one per file part, else by
 * its part's own filename.
 */
export async function uploadMultipart(
  deps: AppDeps, owner: UploadOwner, request: Request, query: Record<string, string | undefined>, ctx: UploadContext, policy: UploadPolicy = {},
): Promise<UploadOutcome> {
  const { maxBytes } = ctx;
  // Attributes in the query apply to every file, as on a raw upload (they were dropped without a
  // word: `?is_public=false` stored a public file). One given both there and as a field is refused.
  const params = new URLSearchParams(queryOf(request.url));
  // Empty is not given, in the query as in a field (a form that sends every parameter).
  const inQuery = new Set<string>(QUERY_ATTRS.filter((k) => params.getAll(k).some((v) => v !== '')));
  const queryTransformations = parseEagerTransformations(deps, params.getAll('transformations')); // refused before any byte
  if (inQuery.has('tags')) parseTags(params.getAll('tags'));
  if (query.metadata) parseMetaField(query.metadata);
  // A multipart body carries up to MAX_FILES_PER_REQUEST files, so only a length beyond all of them is refused unread;
  // `max_bytes` stays the per-file limit (it was this request bound, so its value depended on the body's size).
  const length = declaredLength(request);
  const maxFiles = policy.maxFiles ?? MAX_FILES_PER_REQUEST;
  const bound = maxBytes * maxFiles + MULTIPART_OVERHEAD;
  const overBound = (what: string) => new AppError('FILE_TOO_LARGE', 413,
    `The request ${what}, more than ${maxFiles === 1 ? 'one file' : `${maxFiles} files`} at your upload limit of ${maxBytes} bytes ${maxFiles === 1 ? '' : 'each '}can fill.`,
    { max_bytes: maxBytes, max_files: maxFiles, max_request_bytes: bound });
  if (length !== undefined && length > bound) throw overBound(`declares ${length} bytes`);
  await checkQuota(deps, owner, 0, owner.isPromoted ? undefined : await openUploads(deps, owner.userId));
  if (!request.body || declaresNoBody(request)) throw validationError('The request body is empty.', [{ path: '/', message: 'empty body' }]);

  const pending: { name: string; staged: Promise<StagedFile> }[] = [];
  // The whole body counts, not only its files: against the bound while it streams (a chunked
  // body, or junk around the parts, was read without end) and against `upload_bytes`.
  const body = meteredBody(guardIdleBody(request.body, deps.config.uploadIdleTimeoutMs), bound, () => overBound(`body runs past ${bound} bytes`), policy.onBytes);
  const parser = parseMultipart(body, {
    contentType: request.headers.get('content-type') ?? '',
    maxPartBytes: maxBytes + 1,
    maxFiles,
    // A bad transformation sent before the files stops the request before any byte is stored.
    onField(name, value) {
      checkTextField(name); // an unknown field fails the request: 400 naming it, nothing kept
      if (value !== '' && inQuery.has(name)) throw givenTwice(name);
      if (name === 'transformations') parseEagerTransformations(deps, [value]);
      if (name === 'tags') parseTags([value]);
      if (name === 'metadata' && value !== '') parseMetaField(value); // empty = not given (Scalar's 'Try it' form sends every field)
    },
    onFile(part) {
      if (!isFileField(part.field)) {
        void part.stream.cancel();
        return parser.stop(unknownInputs('form field', [part.field], UPLOAD_FILE_FIELDS));
      }
      const staged = stageFile(deps, owner, part.stream, {
        maxBytes, declared: declaredTypeOf(part.mimeType), name: part.filename, allowedTypes: policy.allowedTypes, sizeHint: length,
      });
      // Crossing the byte limit or the upload_bytes budget stops reading the whole request at once (API.md §4, §7).
      staged.catch((err: unknown) => {
        if (err instanceof AppError && (err.status === 413 || err.status === 429)) parser.stop(err);
      });
      pending.push({ name: part.filename ?? part.field, staged });
    },
  });

  let fields: Record<string, string[]>;
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
  const names = fields.name ?? [];
  try {
    // A one-value field sent twice is refused, as a repeated query parameter is (the last one won without a word).
    const one = (k: string) => {
      const v = fields[k];
      if (v && v.length > 1) throw validationError(`The form field ${k} takes one value; it was given ${v.length} times.`, [{ path: `/${k}`, message: 'given more than once' }]);
      // Empty is not given (Scalar's 'Try it' form sends every field): the query's value, if any.
      return v?.[0] || query[k];
    };
    attrs = parseUploadAttrs(
      { folder: one('folder'), is_public: one('is_public'), expires_in: one('expires_in'), expires_at: one('expires_at'), metadata: one('metadata') },
      deps.clock.now(), policy, ctx.defaults,
    );
    // These may repeat; fields that are all empty are not given either.
    const sent = (k: 'transformations' | 'tags') => (fields[k]?.some((v) => v !== '') ? fields[k] : undefined);
    const fieldTransformations = sent('transformations');
    attrs.transformations = fieldTransformations ? parseEagerTransformations(deps, fieldTransformations) : queryTransformations;
    const tags = sent('tags') ?? (inQuery.has('tags') ? params.getAll('tags') : fields.tags);
    if (tags) attrs.tags = parseTags(tags);
    if (names.length > 0 && names.length !== pending.length) {
      throw validationError(`Send one \`name\` field per file part, in the same order (${pending.length} files, ${names.length} names), or none.`, [
        { path: '/name', message: `expected ${pending.length} values, got ${names.length}` },
      ]);
    }
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
      // The i-th `name` field names the i-th file part; without them each keeps its part's filename.
      out.files.push(await commitFile(deps, owner, result.value, { ...attrs, name: names[i], countOpenUploads: true })); // removes its object itself on failure
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
