/**
 * What the fuzz test demands of every answer, and what it learns from the good ones (new
 * ids for the pools, acknowledged uploads, refreshed session cookies).
 */
import type { World } from './request';
import type { Operation } from './spec';
import type { WireRequest, WireResponse } from './wire';

/** Printable description of a sent request, for failure reports (bodies abbreviated). */
export function describe(req: WireRequest): string {
  const body = req.body ? ` body=${JSON.stringify(Buffer.from(req.body.subarray(0, 300)).toString('latin1'))}${req.body.length > 300 ? `…(${req.body.length} bytes)` : ''}` : '';
  return `${req.method} ${JSON.stringify(req.target.slice(0, 400))} headers=${JSON.stringify(req.headers.map(([k, v]) => [k, v.slice(0, 120)]))}${req.contentLength !== undefined ? ` content-length=${req.contentLength}` : ''}${body}`;
}

/**
 * The problem with an answer, or null. Any 5xx is one. Any 4xx from the app must be the JSON
 * envelope `{error, message, details?}`; HEAD carries no body. An answer without
 * `X-Request-Id` did not come from the app but from the runtime's HTTP parser, refusing bytes
 * that are not HTTP (that is the parser's job, and it never reaches a route).
 */
export function problemWith(op: Operation, req: WireRequest, res: WireResponse): string | null {
  // Bytes that are not HTTP (a space or control byte in the request line) are refused by the
  // runtime's parser before any route; its answer (without our X-Request-Id) is not the app's.
  const malformed = /[\u0000-\u0020\u007f-\u00ff]/.test(req.target) || req.headers.some(([, v]) => /[\u0000-\u001f\u007f]/.test(v));
  if (malformed && res.headers['x-request-id'] === undefined) return null;
  if (res.status === 0) {
    // The server may legitimately wait for bytes we promised and never sent (Content-Length
    // larger than the body), and may drop a connection whose request line is not HTTP.
    if (req.contentLength !== undefined && req.contentLength > (req.body?.length ?? 0)) return null;
    return `no answer: ${res.failure ?? 'closed'}`;
  }
  if (res.status >= 500) return `${res.status} ${res.body.toString('utf8').slice(0, 300)}`;
  if (res.status < 400 || req.method === 'HEAD' || res.headers['x-request-id'] === undefined) return null;
  // A page for browsers (a share link's form, a dead link opened in a browser) documents its errors as a page:
  // a non-JSON answer is fine when its type is one the document lists for that status.
  const type = res.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (op.nonJsonStatuses[String(res.status)]?.includes(type)) return null;
  if (!res.headers['content-type']?.startsWith('application/json')) return `${res.status} with Content-Type ${res.headers['content-type']} (not the JSON envelope): ${res.body.toString('utf8').slice(0, 200)}`;
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    return `${res.status} body is not JSON: ${res.body.toString('utf8').slice(0, 200)}`;
  }
  const o = json as Record<string, unknown>;
  const extra = Object.keys(o ?? {}).filter((k) => k !== 'error' && k !== 'message' && k !== 'details');
  if (typeof o?.error !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(o.error) || typeof o.message !== 'string' || !o.message || extra.length > 0
    || (o.details !== undefined && (typeof o.details !== 'object' || o.details === null))) {
    return `${res.status} outside the envelope: ${JSON.stringify(json).slice(0, 300)}`;
  }
  return null;
}

const pathOfUrl = (u: string) => {
  try {
    return new URL(u).pathname;
  } catch {
    return u;
  }
};

const add = (pool: string[], v: unknown) => {
  if (typeof v === 'string' && v && !pool.includes(v)) pool.push(v);
  if (pool.length > 200) pool.shift();
};

/** Ids from a good answer go to the pools; uploaded ids are also `acked` (they may be stored). */
export function learn(world: World, op: Operation, req: WireRequest, res: WireResponse, acked: Set<string>): void {
  if (res.status < 200 || res.status >= 300 || !res.headers['content-type']?.startsWith('application/json')) return;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return;
  }
  const file = body.file as { id?: string } | undefined;
  const results = (body.results as { id?: string }[] | undefined) ?? [];
  for (const f of [file, ...results]) {
    if (f?.id && req.method === 'POST') {
      acked.add(f.id);
      add(world.pools.file, f.id);
    }
  }
  if (typeof body.url === 'string') {
    const path = pathOfUrl(body.url);
    const token = /^\/api\/uploads\/([^/]+)$/.exec(path)?.[1];
    if (token) add(world.pools.token, token);
    else if (op.path.endsWith('/signed-url')) add(world.pools.signed, path);
  }
  if (op.path === '/api/auth/api-keys' && req.method === 'POST') add(world.pools.apikey, (body as { id?: string }).id ?? (body.key as { id?: string } | undefined)?.id);
  if (op.path === '/api/auth/register') {
    add(world.pools.user, (body.user as { id?: string } | undefined)?.id);
    add(world.pools.session, (body.session as { access_token?: string } | undefined)?.access_token);
  }
  if (op.path === '/api/queue/jobs') for (const j of (body.items ?? body.jobs ?? []) as { id?: string }[]) add(world.pools.job, j.id);
}
