/**
 * What of a request URL may be stored in a request log: the path with every token-looking
 * segment replaced by `[redacted]`, and the query with the values of secret-bearing
 * parameters (and any value that looks like a credential) redacted. A log must never become
 * a place where an API key, JWT, refresh/reset token or signature can be read back.
 */
import { pathOf } from '../../lib/request-path';

export const REDACTED = '[redacted]';

/** Query parameters whose value is always a secret (compared lower-case, `-` as `_`). */
const SECRET_PARAMS = new Set([
  'token', 'access_token', 'refresh_token', 'id_token', 'api_key', 'apikey', 'key', 'x_api_key',
  'password', 'new_password', 'current_password', 'secret', 'client_secret', 'signature', 'sig', 's',
  'code', 'invite_code', 'jwt', 'auth', 'authorization', 'session', 'x_amz_signature', 'x_amz_credential',
]);

/**
 * True for a path segment or value that looks like a credential: an API key (`pk_…`), a JWT,
 * a `s--sig--` signature, an invite code, or a long opaque random string (≥ 32 characters of
 * base64url/hex). Public file ids and UUIDs are shorter or hyphenated and stay readable.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length < 8) return false;
  if (/^pk_/i.test(value)) return true;
  if (/^eyJ[\w-]+\.[\w-]+/.test(value)) return true;
  if (/^s--.*--$/.test(value)) return true;
  if (/^INV-[A-Za-z0-9]{8,}$/.test(value)) return true;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return false;
  return value.length >= 32 && /^[A-Za-z0-9_\-+/=.~]+$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value);
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Recent results: busy clients repeat the same few URLs (bounded; cleared when full). */
const recent = new Map<string, string>();
const RECENT_MAX = 2048;
/** Longer URLs are sanitised each time, so the map holds at most RECENT_MAX × this many characters of keys. */
const RECENT_URL_MAX = 2048;

/** Path and query of `url`, safe to store. Long paths are cut at 1024 characters. */
export function sanitizeUrl(url: string): string {
  let out = recent.get(url);
  if (out === undefined) {
    out = sanitize(url);
    if (url.length > RECENT_URL_MAX) return out;
    if (recent.size >= RECENT_MAX) recent.clear();
    recent.set(url, out);
  }
  return out;
}

function sanitize(url: string): string {
  const q = url.indexOf('?');
  const path = pathOf(url)
    .split('/')
    .map((seg) => (seg && looksLikeSecret(decode(seg)) ? REDACTED : seg))
    .join('/');
  let query = '';
  if (q >= 0 && q < url.length - 1) {
    const parts: string[] = [];
    for (const pair of url.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      const key = decode(name).toLowerCase().replace(/-/g, '_');
      const secret = SECRET_PARAMS.has(key) || looksLikeSecret(decode(value)) || looksLikeSecret(decode(name));
      parts.push(secret ? `${looksLikeSecret(decode(name)) ? REDACTED : name}=${REDACTED}` : pair);
    }
    if (parts.length) query = `?${parts.join('&')}`;
  }
  const full = path + query;
  return full.length > 1024 ? `${full.slice(0, 1021)}...` : full;
}
