/**
 * The path and the query string of a request URL, cut from the string without building a `URL`:
 * this runs on every request, and `new URL` throws on a Host header a client made up
 * (`Host: a:99999`), which would be a 500.
 */

/** Where the path of a request URL begins (after `scheme://authority`), or -1 when it has none. */
export const pathStart = (url: string): number => url.indexOf('/', url.indexOf('//') + 2);

/** The path of a request URL (`/` when it has none), without its query string. */
export function pathOf(url: string): string {
  const start = pathStart(url);
  if (start < 0) return '/';
  const q = url.indexOf('?', start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/** The query string of a request URL, without the `?` (empty when it has none). */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}
