/**
 * The one error type and the one mapper (API.md §1). Feature code throws `AppError`s from the
 * small factories below; `errorEnvelope` turns those, Elysia's own errors and anything
 * unexpected into `{error, message, details?}` with the right status. Stacks and SQL never
 * reach a response body; 500s are logged with the request id the client sees.
 */
import { t, type TSchema } from 'elysia';
import { closestName } from './lib/suggest';

export type ErrorCode =
  | 'VALIDATION_ERROR' | 'INVALID_TRANSFORMATION' | 'UNAUTHORIZED' | 'TOKEN_REUSED'
  | 'EMAIL_NOT_VERIFIED' | 'FORBIDDEN' | 'MISSING_SCOPE' | 'CSRF_INVALID' | 'ACCOUNT_BANNED'
  | 'INVALID_SIGNATURE' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'CONFLICT' | 'GONE'
  | 'FILE_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'RANGE_NOT_SATISFIABLE' | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED' | 'REQUEST_TIMEOUT' | 'INSUFFICIENT_STORAGE' | 'OVERLOADED' | 'STORAGE_UNAVAILABLE' | 'DATABASE_UNAVAILABLE' | 'INTERNAL_ERROR'
  | 'UNPROCESSABLE_IMAGE'
  // The tus protocol's own statuses (modules/tus): 460 checksum mismatch, 423 upload busy, 412 version.
  | 'CHECKSUM_MISMATCH' | 'LOCKED' | 'PRECONDITION_FAILED'
  // Outbound requests to URLs a client chose (remote sources, webhooks; lib/ssrf.ts).
  | 'REMOTE_SOURCE_REFUSED' | 'REMOTE_SOURCE_UNAVAILABLE' | 'REMOTE_SOURCE_TIMEOUT';

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** An error meant for the client: code, HTTP status, message and optional details/headers. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. `Retry-After` or `Allow`. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): ErrorBody {
    return this.details ? { error: this.code, message: this.message, details: this.details } : { error: this.code, message: this.message };
  }
}

export interface FieldError {
  path: string;
  message: string;
  /** Where the field was sent, when the thrower knows. */
  in?: 'path' | 'query' | 'body' | 'header';
}

export const validationError = (message: string, fields: FieldError[] = []) =>
  new AppError('VALIDATION_ERROR', 400, message, { fields });

/**
 * 400 for inputs a route does not take (query parameters, form fields, JSON body fields): each
 * is named, with the closest known name when one is close (`isPublic` → `is_public`), so a typo
 * is never silently ignored.
 */
export function unknownInputs(kind: 'query parameter' | 'form field' | 'body field', names: string[], known: readonly string[]): AppError {
  // Names come from the client: at most 20 of them, 64 characters each, go back in the answer.
  const fields = names.slice(0, 20).map((full) => {
    const name = full.slice(0, 64);
    const suggestion = closestName(name, known);
    return {
      path: `/${name}`,
      message: `is not a known ${kind}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`,
      in: kind === 'query parameter' ? 'query' : 'body',
      ...(suggestion === undefined ? {} : { suggestion }),
    };
  });
  const first = fields[0]!;
  const takes = known.length ? `Known: ${known.join(', ')}.` : `This route takes no ${kind}s.`;
  const message = `Unknown ${kind} ${JSON.stringify(first.path.slice(1))}${first.suggestion === undefined ? '' : ` (did you mean ${first.suggestion}?)`}. ${takes}`;
  return new AppError('VALIDATION_ERROR', 400, message, { fields });
}

/**
 * 400 for a NUL byte (`%00` in the URL, `\u0000` in a JSON or form string): no Pictor input
 * may hold one, and Postgres refuses it in text (it used to surface as a 500).
 */
export const nulByte = (where: 'path' | 'query' | 'body', path: string) =>
  new AppError('VALIDATION_ERROR', 400, `The request ${where === 'query' ? 'query string' : where} contains a NUL byte (${where === 'body' ? '\\u0000' : '%00'}) at ${path}; no input accepts one.`, {
    fields: [{ path, message: 'contains a NUL byte', in: where }],
  });

/** 401 with the challenge every 401 must carry (RFC 9110 §11.6.1), as the guard's own do. */
export const unauthorized = (message = 'Authentication required.') =>
  new AppError('UNAUTHORIZED', 401, message, undefined, { 'WWW-Authenticate': 'Bearer realm="Pictor"' });
export const forbidden = (message = 'You are not allowed to do this.') => new AppError('FORBIDDEN', 403, message);
export const missingScope = (required: string) =>
  new AppError('MISSING_SCOPE', 403, `This API key lacks the scope ${required}.`, { required });
export const tokenReused = () =>
  new AppError('TOKEN_REUSED', 401, 'This refresh token was already used; the whole session has been revoked. Sign in again.');
export const csrfInvalid = () =>
  new AppError('CSRF_INVALID', 403, 'Cookie-authenticated requests that change state must send X-CSRF-Token equal to the pictor_csrf cookie.');
export const accountBanned = () => new AppError('ACCOUNT_BANNED', 403, 'This account is banned.');
export const emailNotVerified = () =>
  new AppError('EMAIL_NOT_VERIFIED', 403, 'Confirm your email address first; check your inbox for the link.');
export const notFound = (what = 'Resource') => new AppError('NOT_FOUND', 404, `${what} not found.`);
export const routeNotFound = (method: string, path: string) =>
  new AppError('NOT_FOUND', 404, `No route for ${method} ${path}.`);
export const methodNotAllowed = (method: string, allowed: string[]) =>
  new AppError('METHOD_NOT_ALLOWED', 405, `${method} is not allowed here; use ${allowed.join(', ')}.`, { allowed }, { Allow: allowed.join(', ') });
export const conflict = (message: string) => new AppError('CONFLICT', 409, message);
export const gone = (message = 'This resource has expired.') => new AppError('GONE', 410, message);
/** 413: `what` is too big; `max_bytes` is always the limit that was crossed. */
export const payloadTooLarge = (maxBytes: number, what = 'The request body', extra: Record<string, unknown> = {}) =>
  new AppError('FILE_TOO_LARGE', 413, `${what} is larger than ${maxBytes} bytes.`, { max_bytes: maxBytes, ...extra });
/** 413 for one uploaded file over the caller's per-file limit (the setting or the plan). */
export const fileTooLarge = (maxBytes: number) =>
  new AppError('FILE_TOO_LARGE', 413, `The file is larger than your upload limit of ${maxBytes} bytes.`, { max_bytes: maxBytes });
export const unsupportedMediaType = (message: string, details: { detected: string } & Record<string, unknown>) =>
  new AppError('UNSUPPORTED_MEDIA_TYPE', 415, message, details);
/** 422 for a stored image the decoder cannot read (truncated or corrupt): retrying will not help. */
export const unprocessableImage = (reason: string) =>
  new AppError('UNPROCESSABLE_IMAGE', 422, `This image cannot be decoded, so it cannot be transformed: ${reason}.`, { reason });
export const quotaExceeded = (message: string, details: Record<string, unknown>) =>
  new AppError('QUOTA_EXCEEDED', 507, message, details);
/** 408: an upload sent nothing for `UPLOAD_IDLE_TIMEOUT` and was aborted. */
export const uploadTimedOut = (idleSeconds: number) =>
  new AppError('REQUEST_TIMEOUT', 408, `No bytes arrived for ${idleSeconds} s: the upload was aborted and nothing was kept.`, { idle_timeout_s: idleSeconds },
    // The rest of the body may still come: read as a next request, it would be garbage (RFC 9110 §15.5.9).
    { Connection: 'close' });
/** 408: a request body (not an upload) stopped arriving for `UPLOAD_IDLE_TIMEOUT`. */
export const bodyTimedOut = (idleSeconds: number) =>
  new AppError('REQUEST_TIMEOUT', 408, `No bytes of the request body arrived for ${idleSeconds} s: the request was not read.`, { idle_timeout_s: idleSeconds }, { Connection: 'close' });
/**
 * True for a write refused because the disk (or the process's quota on it) is full: ENOSPC and
 * EDQUOT from the file system, SQLSTATE 53100 (disk_full) from Postgres.
 */
export function isDiskFullError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === '53100';
}
/** Connection failures as the AWS SDK reports them (Bun's fetch and Node's codes; the SDK's own timeout). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ConnectionRefused', 'ConnectionClosed', 'TimeoutError']);

/** A bucket deleted, or keys revoked, while the server runs: the same 503, with its cause in the log. */
const MISCONFIGURED = new Set(['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AllAccessDisabled', 'AccountProblem']);

/**
 * True for an S3 call that could not reach the storage, that the storage answered with a 5xx, or
 * that it refused for its setup (no such bucket, keys not taken): an error of the AWS SDK (it
 * carries `$metadata`). None is the client's doing, nor a bug; the operator's fix is in
 * `/health/ready`.
 */
export function isStorageUnavailable(err: unknown): boolean {
  let e = err as { $metadata?: { httpStatusCode?: number }; code?: unknown; name?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause as typeof e) {
    if (!e.$metadata) continue;
    const status = e.$metadata.httpStatusCode ?? 0;
    if (UNREACHABLE.has(String(e.code)) || UNREACHABLE.has(String(e.name)) || status >= 500 || status === 401 || status === 403 || MISCONFIGURED.has(String(e.name))) return true;
  }
  return false;
}
/**
 * 503: the storage (S3) cannot be reached, fails, or refuses its setup; the client did nothing
 * wrong and may retry. `cause`, the storage's error, is kept for the log line (`outageCause`).
 */
export const storageUnavailable = (cause?: unknown) => {
  const err = new AppError('STORAGE_UNAVAILABLE', 503, 'The file storage cannot be reached right now; retry in a few seconds.', { retry_after: 5 }, { 'Retry-After': '5' });
  if (cause !== undefined) err.cause = cause;
  return err;
};
/**
 * How Postgres (through postgres.js, wrapped by Drizzle in `cause`) says it cannot answer now:
 * the connection refused, lost or timed out, the server shutting down or starting, out of
 * connections, or a statement or lock wait past its timeout. Nothing the client did: a 503.
 */
const DATABASE_DOWN = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'ANSWER_TIMEOUT', 'ConnectionRefused', 'ConnectionClosed',
  '57P01', '57P02', '57P03', '53300', '57014', '55P03',
]);
/** A connection lost with a statement on it: whether a COMMIT sent on it landed is unknown. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'ANSWER_TIMEOUT', 'ConnectionClosed', '57P01', '57P02']);

type ErrorLink = { code?: unknown; name?: unknown; cause?: unknown; query?: unknown } | null | undefined;

/** postgres.js's own connection errors (its `Errors.connection`; ANSWER_TIMEOUT is our patch's): nothing else uses these codes. */
const POSTGRES_JS_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ANSWER_TIMEOUT']);

/**
 * The code of the database error in `err`'s cause chain (`57P01`, `ECONNREFUSED`), or null when
 * nothing in the chain came from the database: postgres.js marks each error of a query with its
 * `query` and names the server's `PostgresError`, Drizzle wraps them in a `DrizzleQueryError`,
 * and a transaction's lost connection is postgres.js's `CONNECTION_CLOSED`. A bare `ECONNRESET`
 * (an S3 body cut off) is not the database's.
 */
function databaseCode(err: unknown): string | null {
  let fromDatabase = false;
  let code: string | null = null;
  let e = err as ErrorLink;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++, e = e.cause as ErrorLink) {
    const own = typeof e.code === 'string' && e.code ? e.code : null;
    if ('query' in e || e.name === 'PostgresError' || e.name === 'DrizzleQueryError' || (own !== null && POSTGRES_JS_CODES.has(own))) fromDatabase = true;
    if (code === null && own !== null) code = own;
  }
  return fromDatabase ? code : null;
}

/** True when `err` (or what caused it) is the database being unreachable or unable to answer now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = databaseCode(err);
  // SQLSTATE class 08: connection exceptions.
  return code !== null && (DATABASE_DOWN.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}
/** True when the database connection was lost under a statement: its transaction may have committed. */
export function isConnectionLost(err: unknown): boolean {
  const code = databaseCode(err);
  return code !== null && (CONNECTION_LOST.has(code) || /^08[0-9A-Z]{3}$/.test(code));
}
/** 503: the database cannot answer now; `cause` is kept for the log line (`outageCause`), never its SQL. */
export const databaseUnavailable = (cause?: unknown) => {
  const code = databaseCode(cause);
  const timedOut = code === '57014' || code === 'ANSWER_TIMEOUT';
  const err = new AppError(
    'DATABASE_UNAVAILABLE', 503,
    timedOut ? 'The database took longer than DATABASE_STATEMENT_TIMEOUT_MS to answer; retry in a few seconds.' : 'The database cannot be reached right now; retry in a few seconds.',
    { retry_after: 5 }, { 'Retry-After': '5' },
  );
  if (cause !== undefined) err.cause = cause;
  return err;
};
/** What a failed query said, without its statement's parameters: Drizzle's message repeats them. */
export function errorText(err: unknown): string {
  let e = err as (ErrorLink & { message?: unknown }) | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (e.name !== 'DrizzleQueryError') return typeof e.message === 'string' ? e.message : String(err);
    e = e.cause as typeof e;
  }
  if ((err as { name?: unknown } | null)?.name === 'DrizzleQueryError') return 'a database query failed';
  return err instanceof Error ? err.message : String(err);
}
/** A dependency's outage as its 503 (the storage or the database), or null for any other error. */
export function outageOf(err: unknown): AppError | null {
  if (isStorageUnavailable(err)) return storageUnavailable(err);
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err);
  return null;
}
/** The dependency's own word behind a 503 (`NoSuchBucket`, `InvalidAccessKeyId`, `ECONNREFUSED`, `57P01`), for the operator's log. */
export function outageCause(err: AppError): string | undefined {
  let e = err.cause as { code?: unknown; name?: unknown; cause?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++, e = e.cause as typeof e) {
    const named = [e.code, e.name].find((v): v is string => typeof v === 'string' && v !== '' && v !== 'Error' && v !== 'DrizzleQueryError');
    if (named) return named;
    if (e.$metadata?.httpStatusCode) return `HTTP ${e.$metadata.httpStatusCode}`;
  }
  return undefined;
}
/** 507: the server's storage is full (ENOSPC, EDQUOT), not the account's quota. */
export const insufficientStorage = () =>
  new AppError('INSUFFICIENT_STORAGE', 507, 'The server has no storage space left for this upload; nothing was kept. Try again later.');
export const rangeNotSatisfiable = (size: number) =>
  new AppError('RANGE_NOT_SATISFIABLE', 416, 'The requested range is not satisfiable.', { size }, { 'Content-Range': `bytes */${size}` });
/** 429 with the API.md §7 details; `headers` carry `Retry-After` and the `X-RateLimit-*` set. */
export const rateLimited = (
  details: { bucket: string; limit: number; remaining: number; retry_after: number; window_seconds: number },
  headers: Record<string, string>,
) => new AppError('RATE_LIMITED', 429, 'Rate limit exceeded.', details, { ...headers, 'Retry-After': String(details.retry_after) });
export const overloaded = (message: string, retryAfterS = 1) =>
  new AppError('OVERLOADED', 503, message, { retry_after: retryAfterS }, { 'Retry-After': String(retryAfterS) });
/** 400 for a bad `/t` transformation: names the parameter and what it allows (TRANSFORMS.md). */
export const invalidTransformation = (parameter: string, allowed: string, value?: string) =>
  new AppError(
    'INVALID_TRANSFORMATION', 400,
    `Invalid transformation parameter ${parameter}${value !== undefined ? ` (${JSON.stringify(value.slice(0, 64))})` : ''}: allowed ${allowed}.`,
    { parameter, allowed, ...(value !== undefined ? { value: value.slice(0, 64) } : {}) },
  );
export const invalidSignature = () => new AppError('INVALID_SIGNATURE', 403, 'The URL signature does not match.');
export const internalError = (requestId: string) =>
  new AppError('INTERNAL_ERROR', 500, 'Something went wrong on our side.', { request_id: requestId });

/** Elysia's validation error, reduced to the fields the mapper reads (kept structural to avoid its generics). */
interface ValidationLike {
  type: string;
  /** The value that failed (for a `property` error: the coerced query value). */
  value?: unknown;
  all: { path?: string; message?: string; summary?: string; schema?: unknown; value?: unknown }[];
}

type NumberBranch = { type?: string; format?: string; minimum?: number; maximum?: number };

const isNumeric = (b: NumberBranch) => b.type === 'integer' || b.type === 'number' || (b.type === 'string' && (b.format === 'integer' || b.format === 'numeric'));

/**
 * The rule of a number field, in words. Elysia checks an integer as a union (the number, or a
 * string of digits it would coerce), so TypeBox's own text said "should be one of: 'integer',
 * 'integer'", naming neither the kind nor the range. Null when the schema is not such a union.
 */
export function numberRule(schema: unknown): string | null {
  const s = schema as (NumberBranch & { anyOf?: NumberBranch[] }) | undefined;
  if (!s) return null;
  // A plain number schema too: a query number out of range fails after its conversion, against the number alone.
  const branches = s.anyOf ? flatBranches(s.anyOf) : isNumeric(s) && s.type !== 'string' ? [s] : undefined;
  if (!branches || !branches.some(isNumeric) || !branches.every((b) => isNumeric(b) || b.type === 'null')) return null;
  const kind = branches.some((b) => b.type === 'number' || b.format === 'numeric') ? 'a number' : 'a whole number';
  const min = s.minimum ?? branches.find((b) => b.minimum !== undefined)?.minimum;
  const max = s.maximum ?? branches.find((b) => b.maximum !== undefined)?.maximum;
  const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` of at least ${min}` : max !== undefined ? ` of at most ${max}` : '';
  return `must be ${kind}${range}${branches.some((b) => b.type === 'null') ? ', or null' : ''}`;
}

type Branch = NumberBranch & { anyOf?: Branch[]; const?: unknown };

/** A union's members, a nested union (a nullable number: the number's own union, or null) opened up. */
function flatBranches(anyOf: Branch[]): Branch[] {
  return anyOf.flatMap((b) => (b.anyOf && b.type === undefined ? flatBranches(b.anyOf).map((x) => ({ ...x, minimum: x.minimum ?? b.minimum, maximum: x.maximum ?? b.maximum })) : [b]));
}

const FORMATS: Record<string, string> = {
  uuid: 'must be a UUID',
  'date-time': 'must be a date and time in ISO 8601, such as 2026-12-05T10:00:00Z',
  date: 'must be a date in ISO 8601, such as 2026-12-05',
  email: 'must be an email address',
  uri: 'must be an absolute URL',
};

/**
 * A field's rule in words where TypeBox's text names its own machinery: a boolean (checked as
 * a union with its string form: "should be one of: 'boolean', 'boolean'"), a choice of values
 * ("Expected kind 'UnionEnum'", "should be one of: 'string', 'string'"), a number (numberRule;
 * a nullable one read "should be one of: 'undefined', 'null'"), a format ("should be uuid"), a
 * length, a pattern (its regular expression) worded by the field's description. `message` is
 * TypeBox's, to tell which rule failed. Null to keep TypeBox's text.
 */
export function ruleOf(schema: unknown, message = ''): string | null {
  const s = schema as (Branch & { enum?: unknown[]; format?: string; pattern?: string; minLength?: number; maxLength?: number; description?: string; examples?: unknown[] }) | undefined;
  if (!s) return null;
  if (Array.isArray(s.enum)) return `must be one of: ${s.enum.map(String).join(', ')}`;
  const branches = s.anyOf ? flatBranches(s.anyOf) : [];
  const consts = branches.filter((b) => b.const !== undefined);
  if (consts.length > 0 && consts.length + branches.filter((b) => b.type === 'null').length === branches.length) {
    return `must be one of: ${consts.map((b) => String(b.const)).join(', ')}${consts.length < branches.length ? ', or null' : ''}`;
  }
  if (s.type === 'boolean' || branches.some((b) => b.type === 'boolean')) return 'must be true or false';
  const number = numberRule(schema);
  if (number) return number;
  // A nullable text (a key's name): the union's failure does not say which rule the text broke, so all of them.
  const text = branches.find((b) => b.type === 'string') as { minLength?: number; maxLength?: number; format?: string } | undefined;
  if (s.type !== 'string' && text && branches.every((b) => b.type === 'string' || b.type === 'null')) {
    // A nullable date (a key's `expires_at`): "must be text or null" for `tomorrow`, which is text.
    if (text.format && FORMATS[text.format]) return `${FORMATS[text.format]!}, or null`;
    const [min, max] = [text.minLength, text.maxLength];
    if (min !== undefined && max !== undefined) return `must be text of ${min} to ${max} characters, or null`;
    if (max !== undefined) return `must be text of at most ${max} characters, or null`;
    if (min !== undefined) return `must be text of at least ${min} character${min === 1 ? '' : 's'}, or null`;
    return 'must be text or null';
  }
  if (s.type === 'array') return listRule(s as { minItems?: number; maxItems?: number }, message);
  if (s.type !== 'string') return null;
  if (s.format && FORMATS[s.format] && /format|should be/.test(message)) return FORMATS[s.format]!;
  if (/length/.test(message)) {
    const [min, max] = [s.minLength, s.maxLength];
    if (min !== undefined && max !== undefined) return `must be ${min} to ${max} characters long`;
    if (min !== undefined) return `must be at least ${min} character${min === 1 ? '' : 's'} long`;
    if (max !== undefined) return `must be at most ${max} characters long`;
  }
  if (s.pattern && /match/.test(message)) {
    const described = s.description?.split(/[;.](\s|$)/)[0]?.trim();
    if (described) return `has the wrong form: expected ${described}`;
    if (s.examples?.length) return `has the wrong form: for example ${String(s.examples[0])}`;
  }
  return null;
}

/** A list's length or repeats in words (TypeBox: "Expected array length to be greater or equal to 1", "Expected array elements to be unique"). */
function listRule(s: { minItems?: number; maxItems?: number }, message: string): string | null {
  const items = (n: number) => `${n} item${n === 1 ? '' : 's'}`;
  if (/unique/.test(message)) return 'must not list an item twice';
  if (!/length/.test(message)) return null;
  const [min, max] = [s.minItems, s.maxItems];
  if (min !== undefined && max !== undefined) return `must list ${min === max ? items(min) : `${min} to ${items(max)}`}`;
  if (min !== undefined) return `must list at least ${items(min)}`;
  if (max !== undefined) return `must list at most ${items(max)}`;
  return null;
}

const KINDS: Record<string, string> = { string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object' };

/**
 * A missing field or one of the wrong kind, in words that do not repeat the value: Elysia's
 * read "Expected property 'password' to be string but found: 12345678", echoing a password.
 */
function typeRule(schema: unknown, value: unknown): string | null {
  const type = (schema as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !KINDS[type]) return null;
  const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const fits = kind === type || (kind === 'number' && type === 'integer' && Number.isInteger(value));
  return fits ? null : `must be ${KINDS[type]}`;
}

/**
 * Builds the 400 envelope from an Elysia validation failure, listing every failing field.
 * `query`: the request's query, to name the parameter of a `property` failure (a query number
 * out of its range fails while being converted, where Elysia keeps no name: it said `/`).
 */
export function fromValidation(error: ValidationLike, query?: URLSearchParams, isNumber: (name: string) => boolean = () => true): AppError {
  let where = error.type === 'body' ? 'body' : error.type === 'query' ? 'query' : error.type === 'params' ? 'path' : error.type;
  let unnamed: string | null = null;
  if (error.type === 'property' && query) {
    // Only the route's number parameters can fail so (`limit=999&q=999` named neither: `/`).
    const named = [...new Set([...query.entries()].filter(([k, v]) => v !== '' && Number(v) === error.value && isNumber(k)).map(([k]) => k))];
    if (named.length === 1) unnamed = `/${named[0]}`;
    where = 'query';
  }
  const described = error.all.map((e) => ({
    path: e.path && e.path !== '' ? e.path : unnamed ?? '/',
    // A path segment whose percent-escapes do not decode (`/i/%ZZ`) reaches the schema as null;
    // the validator's words were "Expected property 'id' to be string but found: null".
    message: where === 'path' && e.value === null
      ? 'is not valid percent-encoding (each % starts two hex digits, and together they spell UTF-8)'
      : e.value === undefined && e.path ? 'is required' : ruleOf(e.schema, e.message ?? '') ?? typeRule(e.schema, e.value) ?? e.message ?? e.summary ?? 'is invalid',
  }));
  // A union's branches fail alike (a number, or its text form): one line each.
  const fields = described.filter((f, i) => described.findIndex((g) => g.path === f.path && g.message === f.message) === i);
  const first = fields[0];
  const message = first ? `Invalid ${where}: ${first.path} ${first.message}` : `Invalid ${where}.`;
  return new AppError('VALIDATION_ERROR', 400, message, { fields: fields.map((f) => ({ ...f, in: where })) });
}

/** Builds a JSON response for an `AppError`, merging any headers already set on the context. */
export function errorResponse(err: AppError, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify(err.toBody());
  return new Response(body, {
    status: err.status,
    // nosniff on every error body, whoever builds it (the mapper, the fast path, CORS refusals);
    // its length declared, so whoever records the answer (request logs) knows its size.
    headers: {
      ...headers, ...err.headers, 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff',
      'content-length': String(Buffer.byteLength(body)),
    },
  });
}

/** OpenAPI schema of the envelope, used in every route's `response` map. */
export const ErrorSchema = t.Object(
  {
    error: t.String({ description: 'Machine-readable code, see API.md §1.', examples: ['NOT_FOUND'] }),
    message: t.String({ description: 'Human-readable explanation.' }),
    details: t.Optional(t.Record(t.String(), t.Unknown(), { description: 'Code-specific details.' })),
  },
  { title: 'Error' },
);

const STANDARD_ERRORS: Record<number, string> = {
  400: 'VALIDATION_ERROR — the request failed validation, sent a parameter or field the route does not take, or held a NUL byte (`details.fields`).',
  401: 'UNAUTHORIZED — no or invalid credentials.',
  403: 'FORBIDDEN, MISSING_SCOPE, CSRF_INVALID or ACCOUNT_BANNED; on remote sources REMOTE_SOURCE_REFUSED (not on the allow-list, or a private, loopback, link-local or metadata address; a webhook target refused for the same reasons is a 400).',
  404: 'NOT_FOUND.',
  409: 'CONFLICT.',
  410: 'GONE.',
  413: 'FILE_TOO_LARGE — body over the limit (`details.max_bytes`).',
  415: 'UNSUPPORTED_MEDIA_TYPE — a type that is not allowed, or a body that is not JSON on a JSON route (`details.detected`).',
  408: 'REQUEST_TIMEOUT — the upload sent nothing for `UPLOAD_IDLE_TIMEOUT` seconds.',
  416: 'RANGE_NOT_SATISFIABLE — the range is outside the file (`Content-Range: bytes */size`).',
  422: 'UNPROCESSABLE_IMAGE — the stored image cannot be decoded (truncated or corrupt; `details.reason`); remembered, so retrying answers the same.',
  412: 'PRECONDITION_FAILED — a tus request without `Tus-Resumable: 1.0.0`.',
  423: 'LOCKED — another request is writing to this tus upload; retry.',
  429: 'RATE_LIMITED — see `Retry-After`.',
  460: 'CHECKSUM_MISMATCH — the tus chunk did not match its `Upload-Checksum`; it was discarded.',
  500: 'INTERNAL_ERROR (`details.request_id`).',
  502: 'REMOTE_SOURCE_UNAVAILABLE — the remote source could not be fetched (connection, DNS, redirects, or a non-2xx answer in `details.status`).',
  503: 'OVERLOADED, STORAGE_UNAVAILABLE (the file storage cannot be reached) or DATABASE_UNAVAILABLE (the database cannot answer) — see `Retry-After`.',
  504: 'REMOTE_SOURCE_TIMEOUT — the remote source did not arrive within `REMOTE_TIMEOUT_MS`.',
  507: 'QUOTA_EXCEEDED (the account\'s quota) or INSUFFICIENT_STORAGE (the server\'s disk is full).',
};

/** One error `response` entry with a route's own description (the codes it answers with, in place of the shared text). */
export const errorResponseAs = (description: string): TSchema => t.Object(ErrorSchema.properties, { description });

/** The `response` entries for the given error statuses, for a route's OpenAPI documentation. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = t.Object(ErrorSchema.properties, { description: STANDARD_ERRORS[s] ?? 'Error.' });
  return out;
}
