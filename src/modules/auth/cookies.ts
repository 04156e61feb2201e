/**
 * The browser session cookies of API.md §2: `pictor_access` (httpOnly, 15 min),
 * `pictor_refresh` (httpOnly, path `/api/auth`, 7 days) and `pictor_csrf` (readable by the
 * page, which echoes it in `X-CSRF-Token`). `SameSite=Lax`; `Secure` when PUBLIC_URL is https.
 */
import { timingSafeEqual } from 'node:crypto';
import { ACCESS_TTL_S, REFRESH_TTL_S } from './tokens';

export const ACCESS_COOKIE = 'pictor_access';
export const REFRESH_COOKIE = 'pictor_refresh';
export const CSRF_COOKIE = 'pictor_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** Reads one cookie from the `Cookie` header without parsing the rest. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/** One `Set-Cookie` value; every cookie of the server is `SameSite=Lax`. */
export function serializeCookie(name: string, value: string, o: { maxAge: number; path: string; httpOnly: boolean; secure: boolean }): string {
  return [
    `${name}=${value}`,
    `Path=${o.path}`,
    `Max-Age=${o.maxAge}`,
    ...(o.maxAge === 0 ? ['Expires=Thu, 01 Jan 1970 00:00:00 GMT'] : []),
    'SameSite=Lax',
    ...(o.httpOnly ? ['HttpOnly'] : []),
    ...(o.secure ? ['Secure'] : []),
  ].join('; ');
}

/** The three `Set-Cookie` values of a new or refreshed session. */
export function sessionCookies(s: { accessToken: string; refreshToken: string; csrfToken: string; refreshMaxAge: number }, secure: boolean): string[] {
  return [
    serializeCookie(ACCESS_COOKIE, s.accessToken, { maxAge: ACCESS_TTL_S, path: '/', httpOnly: true, secure }),
    serializeCookie(REFRESH_COOKIE, s.refreshToken, { maxAge: Math.min(s.refreshMaxAge, REFRESH_TTL_S), path: '/api/auth', httpOnly: true, secure }),
    serializeCookie(CSRF_COOKIE, s.csrfToken, { maxAge: Math.min(s.refreshMaxAge, REFRESH_TTL_S), path: '/', httpOnly: false, secure }),
  ];
}

/** `Set-Cookie` values that delete the session cookies. */
export function clearedCookies(secure: boolean): string[] {
  return [
    serializeCookie(ACCESS_COOKIE, '', { maxAge: 0, path: '/', httpOnly: true, secure }),
    serializeCookie(REFRESH_COOKIE, '', { maxAge: 0, path: '/api/auth', httpOnly: true, secure }),
    serializeCookie(CSRF_COOKIE, '', { maxAge: 0, path: '/', httpOnly: false, secure }),
  ];
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Double-submit check: true when the request may proceed (safe method, or header equals cookie). */
export function checkCsrf(request: Request): boolean {
  if (!MUTATING.has(request.method)) return true;
  const cookie = readCookie(request, CSRF_COOKIE);
  const header = request.headers.get(CSRF_HEADER);
  if (!cookie || !header) return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a request was sent from this server's API reference ("Test Request" on `/docs`),
 * by its `Referer` on the same host. A sign-in from there sets no cookies: the operation's
 * example names a public account, and its cookies replaced the browser's own session. The
 * answer still carries the tokens. Without a `Referer` (a policy that strips it), the
 * cookies are set as for any other caller.
 */
export function sentFromReference(request: Request): boolean {
  const referer = request.headers.get('referer');
  if (!referer) return false;
  try {
    const from = new URL(referer);
    const host = request.headers.get('host') ?? new URL(request.url).host;
    return from.host === host && (from.pathname === '/docs' || from.pathname.startsWith('/docs/'));
  } catch {
    return false;
  }
}
