/**
 * A small JSON client for end-to-end suites: one call = one real HTTP request. Every answer is
 * checked against the server's own /openapi.json (helpers/openapi.ts): an undocumented status,
 * content type or body shape fails the calling test.
 */
import { assertConforms } from './openapi';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export type Auth = { bearer?: string; key?: string; cookie?: string; csrf?: string; headers?: Record<string, string> };

export function createClient(baseUrl: string) {
  return async function api<T = any>(method: string, path: string, body?: unknown, auth: Auth = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...auth.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth.bearer) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth.key) headers['x-api-key'] = auth.key;
    if (auth.cookie) headers.cookie = auth.cookie;
    if (auth.csrf) headers['x-csrf-token'] = auth.csrf;
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    await assertConforms(baseUrl, method, res, text);
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
  };
}

/** `name=value` pairs of a response's `Set-Cookie` headers, as a `Cookie` header and a map. */
export function cookiesOf(headers: Headers): { header: string; map: Record<string, string> } {
  const map: Record<string, string> = {};
  for (const c of headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    map[pair!.slice(0, eq)] = pair!.slice(eq + 1);
  }
  return { header: Object.entries(map).map(([k, v]) => `${k}=${v}`).join('; '), map };
}
