/**
 * Input and response hardening shared by the request plumbing (http.ts): the refusal of NUL
 * bytes anywhere in a request's text and of lone surrogates in a JSON body, and the security
 * headers every routed answer carries.
 */
import { nulByte, validationError } from './errors';

/**
 * Headers of every routed answer outside public delivery (JSON, errors, `/docs`, the HTML
 * pages), as OWASP's REST and secure-headers guidance lists them: no MIME sniffing, no Referer
 * leaving the API or its pages, never framed (`X-Frame-Options` for old browsers,
 * `frame-ancestors` for the rest). A handler's own value wins (the auth pages send a stricter
 * CSP). Built once; the plumbing copies it into each request's headers. Public delivery (`/i`,
 * `/d`, `/t`, `/authenticated`) gets none of it: its bytes must stay embeddable, and it sets
 * the headers API.md §5 documents itself (nosniff, a sandbox CSP per content type), exactly as
 * the fast path does; its error bodies get nosniff from `errorResponse`.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
});

/**
 * Refuses a URL holding `%00` (a NUL byte once decoded, in the path or the query string) with
 * a 400 naming where it is. Raw NUL bytes never get this far: the runtime's HTTP parser refuses
 * them in the request line.
 */
export function assertNoNulInUrl(url: string): void {
  const at = url.indexOf('%00');
  if (at < 0) return;
  const q = url.indexOf('?');
  if (q < 0 || at < q) throw nulByte('path', '/');
  // Name the parameter (decoded as URLSearchParams does) when one can be told.
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    if (name.includes('\0') || value.includes('\0')) throw nulByte('query', `/${name.replaceAll('\0', '\\0').slice(0, 64)}`);
  }
  throw nulByte('query', '/');
}

/**
 * Refuses a parsed JSON or form body whose strings (values or keys, at any depth) hold a NUL,
 * with the JSON pointer of one of them. Iterative: a deeply nested body cannot overflow the
 * stack. Callers run it only when the body text can hold one (`\u0000`, `%00`).
 */
export function assertNoNulInBody(body: unknown): void {
  const at = stringWhere(body, (s) => s.includes('\0'));
  if (at !== null) throw nulByte('body', at);
}

/** A lone UTF-16 surrogate: with the `u` flag, a paired one is one code point and does not match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Refuses a parsed JSON body whose strings hold a lone surrogate (`"\ud800"`), which no text
 * encoding can store: it was kept as U+FFFD without a word. Callers run it only when the body
 * text holds a `\u` escape.
 */
export function assertWellFormedBody(body: unknown): void {
  const at = stringWhere(body, (s) => LONE_SURROGATE.test(s));
  if (at !== null) throw validationError('The request body holds a \\u escape of half a character (a lone surrogate), which is not text.', [{ in: 'body', path: at, message: 'lone surrogate' }]);
}

/**
 * The JSON pointer of a string (a value or a key, at any depth) that `bad` is true of, or null.
 * Iterative: a deeply nested body cannot overflow the stack.
 */
function stringWhere(body: unknown, bad: (s: string) => boolean): string | null {
  const stack: [unknown, string][] = [[body, '']];
  while (stack.length) {
    const [value, at] = stack.pop()!;
    if (typeof value === 'string') {
      if (bad(value)) return at || '/';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      const here = `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1').replaceAll('\0', '\\0').slice(0, 64)}`;
      if (bad(key)) return here;
      stack.push([child, here]);
    }
  }
  return null;
}
