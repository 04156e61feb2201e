/**
 * The app's only way to the server: the public JSON API with the cookie session. Mutating calls
 * echo the readable `pictor_csrf` cookie in `X-CSRF-Token` (double submit); no token is ever
 * kept in localStorage. An expired access cookie is renewed once through /api/auth/refresh.
 */
import { waitWords } from '../../src/lib/wait-words';

export interface ApiErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function csrfToken(): string {
  const m = /(?:^|;\s*)pictor_csrf=([^;]+)/.exec(document.cookie);
  return m?.[1] ? decodeURIComponent(m[1]) : '';
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function headersFor(method: string, json: boolean): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  if (MUTATING.has(method)) h['x-csrf-token'] = csrfToken();
  return h;
}

/** Turns an error envelope (or a network failure) into a sentence a person can act on. */
export function describeError(status: number, body: Partial<ApiErrorBody> | null, retryAfter?: string | null): ApiError {
  const code = body?.error ?? (status === 0 ? 'NETWORK' : `HTTP_${status}`);
  const details = (body?.details ?? {}) as Record<string, unknown>;
  let message = body?.message ?? (status === 0 ? 'The server could not be reached. Check your connection and try again.' : `The server answered ${status}.`);
  if (code === 'RATE_LIMITED') {
    const wait = Number(details.retry_after ?? retryAfter ?? 0);
    message = `Too many requests for now. Try again in ${wait > 0 ? waitWords(wait) : 'a moment'}.`;
  } else if (code === 'FILE_TOO_LARGE' && typeof details.max_bytes === 'number') {
    // The file's own size when it is known (refused before sending): how far over it is.
    const size = typeof details.size === 'number' ? ` (${formatBytes(details.size)})` : '';
    message = `This file${size} is larger than your upload limit of ${formatBytes(details.max_bytes)}.`;
  } else if (code === 'UNSUPPORTED_MEDIA_TYPE' && details.detected === 'application/x-empty') {
    message = 'This file is empty: there is nothing in it to upload.';
  } else if (code === 'UNSUPPORTED_MEDIA_TYPE' && typeof details.declared === 'string' && typeof details.detected === 'string') {
    // Accepted types both: the name (or the type the browser gave it) says one, the bytes another.
    // It read "This type of file is not accepted (it looks like text/plain)" of a text file named
    // .jpg, whose type is accepted, and then listed the types accepted.
    message = `Its name says ${details.declared}, but its content is ${details.detected}: the name and the content do not match. Rename it with the right extension, or choose the right file.`;
  } else if (code === 'UNSUPPORTED_MEDIA_TYPE' && typeof details.reason === 'string') {
    message = `${message} The file may be damaged or cut short.`; // "The image cannot be decoded: …"
  } else if (code === 'UNSUPPORTED_MEDIA_TYPE') {
    // Which types are accepted is the server's configuration (ALLOWED_CONTENT_TYPES): not listed here.
    const detected = typeof details.detected === 'string' ? ` (it looks like ${details.detected})` : '';
    message = `This type of file is not accepted${detected}.`;
  } else if (code === 'QUOTA_EXCEEDED') {
    message = `Your storage is full: ${message} Delete files to make room.`;
  } else if (status >= 500 && typeof details.request_id === 'string') {
    // The id an administrator finds the failure by in the server's log.
    message = `${message} If it keeps happening, tell your administrator this reference: ${details.request_id}.`;
  }
  return new ApiError(status, code, message, details);
}

/** A span of seconds in the largest whole unit that names it exactly: 172800 → "2 days" (it read "172800 seconds"). */
export function formatSpan(seconds: number): string {
  const units: [number, string][] = [[365 * 86_400, 'year'], [7 * 86_400, 'week'], [86_400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size} ${name}${seconds / size === 1 ? '' : 's'}`;
  }
  return `${seconds} seconds`;
}

/**
 * A date and time as this browser's locale writes it ("Dec 5, 2026, 7:07 PM"), everywhere in the
 * app, or a word for none; `seconds` where rows a second apart must differ (the request log).
 */
export const formatWhen = (iso: string | null, none = 'never', seconds = false): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: seconds ? 'medium' : 'short' }) : none;

export function formatBytes(n: number): string {
  // Whole bytes: a speed is a fraction (it read "254.23728813556534 B/s").
  if (Math.round(n) < 1024) return `${Math.round(n)} B`;
  // Binary steps, so binary names: the server's own units (`750MiB`); 200 000 bytes read "195 KB".
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

let refreshing: Promise<boolean> | null = null;
/** One refresh at a time, however many calls found the access cookie expired. */
function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', headers: headersFor('POST', true), body: '{}', credentials: 'same-origin' })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => setTimeout(() => (refreshing = null), 0));
  return refreshing;
}

const endedListeners = new Set<() => void>();
let ended = false;
/** Calls `fn` when the session ends under the page (revoked elsewhere, or expired); returns the unsubscribe. */
export function onSessionEnded(fn: () => void): () => void {
  endedListeners.add(fn);
  return () => void endedListeners.delete(fn);
}
/** Whether a session ended under this page since the last call (the sign-in page says so, once). */
export function takeSessionEnded(): boolean {
  const was = ended;
  ended = false;
  return was;
}
function sessionEnded(): void {
  ended = true;
  // The readable cookie is what marks "had a session": gone, the next visit goes to sign-in without a 401.
  document.cookie = 'pictor_csrf=; Max-Age=0; Path=/';
  for (const l of endedListeners) l();
}

export async function api<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headersFor(method, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw describeError(0, null);
  }
  // Only a browser that had a session (its readable CSRF cookie is still there) tries to renew it.
  if (res.status === 401 && retry && csrfToken() && !path.startsWith('/api/auth/')) {
    if (await refreshSession()) return api<T>(method, path, body, false);
    sessionEnded();
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw describeError(res.status, parsed as ApiErrorBody | null, res.headers.get('retry-after'));
  return parsed as T;
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : 'Something went wrong.');

export interface User {
  id: string;
  email: string;
  role: 'user' | 'admin';
  email_verified: boolean;
}
export interface FileItem {
  id: string;
  name: string;
  folder: string;
  content_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  is_public: boolean;
  url: string;
  download_url: string;
  transform_url: string;
  /** The embed page `/v/:id` (404 while private or with embeds turned off). */
  view_url: string;
  tags: string[];
  custom_metadata: Record<string, string>;
  created_at: string;
  expires_at: string | null;
  /** Images: a BlurHash and `#rrggbb`, null until the upload's job computed them. */
  blurhash: string | null;
  dominant_color: string | null;
}
export interface ShareLink {
  id: string;
  url: string;
  has_password: boolean;
  max_views: number | null;
  views: number;
  status: 'active' | 'expired' | 'used_up';
  expires_at: string | null;
  last_viewed_at: string | null;
  created_at: string;
}
export interface Page<T> {
  results: T[];
  count: number;
  next_cursor: string | null;
}
export interface Folder {
  path: string;
  name: string;
  files_count: number;
  folders_count: number;
}
export interface Profile {
  user: User;
  plan: { max_upload_size_bytes: number; storage_quota_bytes: number | null; max_files: number | null };
}
export interface Usage {
  storage_bytes: number;
  files_count: number;
}
export interface ServerInfo {
  registration?: { invite_only: boolean; email_verification_required: boolean };
  transformations?: { policy: string; presets: { name: string; transformation: string }[] };
}
