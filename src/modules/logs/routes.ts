/**
 * Per-account request logs (API.md §3): a global after-response hook queues one entry for every
 * request the auth guard resolved a caller for (including its 403s and 429s), into the bounded
 * buffer of `buffer.ts`; `GET /api/logs` lists the caller's own entries. Old entries are
 * removed by the queue's hourly `prune` job. `REQUEST_LOGS=false` turns the hook off.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { onRequestDone, pathOf, requestIdOf, requestStartOf } from '../../http';
import { authGuard, carriesCredential, principalOf, type Principal } from '../auth/guard';
import { clientIpOf } from '../limits/plugin';
import { sanitizeUrl } from './sanitize';
import { listLogs } from './service';

const LogEntry = t.Object(
  {
    id: t.String({ description: 'Opaque, increasing id.' }),
    method: t.String(),
    path: t.String({ description: 'Path and query with secrets and token-looking segments replaced by `[redacted]`.' }),
    status_code: t.Integer(),
    duration_ms: t.Number(),
    request_size_bytes: t.Nullable(t.Integer()),
    response_size_bytes: t.Nullable(t.Integer({ description: 'Null when the body was streamed without a known length.' })),
    ip: t.Nullable(t.String()),
    api_key_prefix: t.Nullable(t.String({ description: 'First 12 characters of the API key used; null for sessions.' })),
    request_id: t.Nullable(t.String({ description: 'The request\'s `X-Request-Id` (the one a 500\'s `details.request_id` names); null for entries logged before request ids were kept.' })),
    created_at: t.String({ format: 'date-time' }),
  },
  { title: 'RequestLog' },
);

const LogList = t.Object({ results: t.Array(LogEntry), count: t.Integer(), next_cursor: t.Nullable(t.String()) }, { title: 'RequestLogList' });

const LogQuery = t.Object({
  status: t.Optional(t.String({ pattern: '^[1-5](\\d\\d|xx|XX)$', description: 'Exact status (`404`) or class (`4xx`).' })),
  method: t.Optional(t.String({ maxLength: 16, description: 'HTTP method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (any case).' })),
  since: t.Optional(t.String({ format: 'date-time', description: 'Only entries at or after this time.' })),
  credential: t.Optional(t.String({
    pattern: '^(session|api_key|pk_[A-Za-z0-9]{9})$',
    description: 'Who made the request: `session` (the web app, or a bearer access token), `api_key` (any API key), or one key by its `api_key_prefix` (`pk_AbC123xyz`).',
  })),
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: t.Optional(t.String({ maxLength: 200 })),
});

/** Bytes of a response body as Elysia sent it, or null when unknown (streams). */
function responseSize(value: unknown): number | null {
  if (value instanceof Response) {
    const len = value.headers.get('content-length');
    return len === null ? null : Number(len);
  }
  if (value === undefined || value === null) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof Blob) return value.size;
  if (typeof value === 'object') return Buffer.byteLength(JSON.stringify(value));
  return String(value).length;
}

export function logRoutes(deps: AppDeps) {
  const app = new Elysia({ name: 'pictor.logs.routes' });
  if (deps.config.requestLogs.enabled) {
    const buffer = deps.requestLogs;
    onRequestDone(deps, ({ request, status, response }) => {
      const p = principalOf(request);
      const t0 = requestStartOf(request);
      if (p) return push(p, request, status, response, t0);
      // Refused before the guard ran (a malformed query, an unknown route, a body of the wrong
      // type): the caller's own mistake, which their log left out. Attributed when the request
      // carried a valid credential (cached lookups; error answers to /api only).
      if (status >= 400 && status !== 401 && pathOf(request.url).startsWith('/api/') && carriesCredential(request)) {
        void deps.credentials.resolve(request).then((caller) => caller && push(caller, request, status, response, t0), () => undefined);
      }
    });
    const push = (p: Principal, request: Request, status: number, response: unknown, t0: number | undefined) => {
      const declared = request.headers.get('content-length');
      buffer.push({
        userId: p.userId,
        method: request.method,
        path: sanitizeUrl(request.url),
        statusCode: status,
        durationMs: t0 === undefined ? 0 : performance.now() - t0,
        // Headers only: on Deno the body may no longer be touched once the response is sent.
        requestSizeBytes: declared === null ? (request.headers.has('transfer-encoding') ? null : 0) : Number(declared) || 0,
        responseSizeBytes: responseSize(response),
        ip: clientIpOf(deps, request),
        apiKeyPrefix: p.apiKeyPrefix ?? null,
        requestId: requestIdOf(request),
        createdAt: deps.clock.now(),
      });
    };
  }
  return app.use(authGuard(deps)).get('/api/logs', ({ principal, query }) => listLogs(deps.db, principal.userId, query), {
    auth: 'account:read',
    query: LogQuery,
    response: { 200: LogList, ...errorResponses(400, 401, 403) },
    detail: {
      tags: ['account'],
      summary: 'List your request logs',
      description: 'Your own authenticated requests, newest first; filters `status` (`404` or `4xx`), `method`, `since`, `credential` (sessions, API keys, or one key); keyset pagination with `cursor`. '
        + 'Entries are written in batches, so the last second or so may not show yet; entries older than `LOG_RETENTION_DAYS` are pruned.',
    },
  });
}
