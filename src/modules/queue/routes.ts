/**
 * `/api/queue/*` (API.md §8): stats, list, retry, cancel, delete and the Server-Sent-Events
 * feed. Users see and act on their own jobs; admins (role admin with the `admin` scope) on all.
 */
import { noContent } from '../../http';
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, forbidden, rateLimited, validationError } from '../../errors';
import { binaryResponse } from '../../openapi-contract';
import { actsAsAdmin, authGuard, type Principal } from '../auth/guard';
import { parseCursor } from './events';
import { EventsQuery, JobIdParams, JobList, JobListItem, JobListQuery, JobSchema, QueueStats, StatsQuery } from './model';
import { cancelJob, checkJobType, deleteJob, getJob, getStats, listJobs, retryJob, type Viewer } from './service';

/**
 * Event streams one account may hold open on one server process: each is a socket and a buffer
 * for as long as it lasts, which the `api` bucket (counting only opens) did not bound.
 */
export const MAX_STREAMS_PER_ACCOUNT = 20;

/** What a principal may see: its own jobs, or all of them for admins. */
export const viewerOf = (p: Principal): Viewer => ({ userId: p.userId, all: actsAsAdmin(p) });

/**
 * The viewer, refusing `system=true` to anyone but an admin: the server's own housekeeping jobs
 * are never shown to others, so the filter would silently answer an empty list.
 * (`system=false` is what every non-admin's list is anyway, and stays accepted.)
 */
function checkedViewer(p: Principal, system: boolean | undefined): Viewer {
  const viewer = viewerOf(p);
  if (system === true && !viewer.all) {
    throw forbidden('system=true lists the server\'s own housekeeping jobs, which only administrators (with the admin scope) see.');
  }
  return viewer;
}

/** The queue plugin: serves `/api/queue` (the job handlers are registered by `registerJobs`, src/jobs.ts). */
export function queueRoutes(deps: AppDeps) {
  return new Elysia({ name: 'pictor.queue.routes', prefix: '/api/queue', detail: { tags: ['queue'] } })
    .use(authGuard(deps))
    .get('/stats', ({ principal, query }) => getStats(deps.db, checkedViewer(principal, query.system), query.system), {
      auth: 'queue:read',
      query: StatsQuery,
      response: { 200: QueueStats, ...errorResponses(400, 401, 403) },
      detail: { summary: 'Job counts by status and type', description: 'Own jobs; admins see every job (`system` narrows them as on the list; `system=true` is 403 for others).' },
    })
    .get('/jobs', async ({ principal, query }) => {
      const viewer = checkedViewer(principal, query.system);
      if (query.type !== undefined) await checkJobType(deps.db, viewer, query.type, deps.queue.types());
      return listJobs(deps.db, viewer, query);
    }, {
      auth: 'queue:read',
      query: JobListQuery,
      response: { 200: JobList, ...errorResponses(400, 401, 403) },
      detail: {
        summary: 'List jobs',
        description: 'Newest first; filter by `status`, `type` (a job type this server runs, or one its jobs have; another is 400 naming the known types) and (admins) `system`; keyset pagination with `cursor`. `system=true` from anyone but an admin is 403: the server\'s own jobs are an admin\'s to see.',
      },
    })
    .get('/jobs/:id', ({ principal, params }) => getJob(deps.db, viewerOf(principal), params.id), {
      auth: 'queue:read',
      params: JobIdParams,
      response: { 200: JobListItem, ...errorResponses(400, 401, 403, 404) },
      detail: { summary: 'Get a job', description: 'One job as the list gives it (with `file_name`); another account\'s is 404 unless you are an admin.' },
    })
    .post('/jobs/:id/retry', ({ principal, params }) => retryJob(deps.db, viewerOf(principal), params.id), {
      auth: 'queue:write',
      params: JobIdParams,
      response: { 200: JobSchema, ...errorResponses(400, 401, 403, 404, 409) },
      detail: { summary: 'Retry a failed or cancelled job', description: 'Back to `pending` with a fresh set of attempts; 409 for other statuses.' },
    })
    .post('/jobs/:id/cancel', ({ principal, params }) => cancelJob(deps.db, viewerOf(principal), params.id), {
      auth: 'queue:write',
      params: JobIdParams,
      response: { 200: JobSchema, ...errorResponses(400, 401, 403, 404, 409) },
      detail: {
        summary: 'Cancel a job',
        description: 'A pending job is `cancelled` at once; a running one gets `cancel_requested` and stops at its next check. 409 for finished jobs.',
      },
    })
    .delete(
      '/jobs/:id',
      async ({ principal, params }) => {
        await deleteJob(deps.db, viewerOf(principal), params.id);
        return noContent();
      },
      {
        auth: 'queue:write',
        params: JobIdParams,
        response: { 204: t.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404, 409) },
        detail: { summary: 'Delete a finished job', description: 'Completed, failed or cancelled jobs only; 409 otherwise.' },
      },
    )
    .get(
      '/events',
      async ({ principal, request, query }) => {
        // Each one sent is checked. With both, the header wins: an EventSource reconnecting to a URL
        // with `?last_event_id=` sends the newer id in the header.
        const sent = [
          { raw: request.headers.get('last-event-id')?.trim(), path: '/Last-Event-ID', in: 'header' as const },
          { raw: query.last_event_id?.trim(), path: '/last_event_id', in: 'query' as const },
        ].filter((s): s is { raw: string; path: string; in: 'header' | 'query' } => !!s.raw);
        const cursors = [];
        for (const s of sent) {
          const c = parseCursor(s.raw);
          if (!c || !(await deps.queue.events.wasSent(c))) {
            throw validationError('Invalid Last-Event-ID.', [{ path: s.path, message: 'is not an event id this server sent', in: s.in }]);
          }
          cursors.push(c);
        }
        const after = cursors[0] ?? null;
        const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' };
        // HEAD runs this GET handler; a stream that never ends would hold the answer (and a
        // subscription) forever, since the runtime waits for the body's end to drop it.
        if (request.method === 'HEAD') return new Response(null, { headers });
        // The caller as the guard saw it, asked again before each batch: still signed in, not banned.
        const viewer = viewerOf(principal);
        const allowed = async () => {
          const now = await deps.credentials.resolve(request).catch(() => null);
          return now !== null && now.userId === principal.userId && (!viewer.all || viewerOf(now).all);
        };
        const stream = await deps.queue.events.subscribe(viewer, after, allowed, MAX_STREAMS_PER_ACCOUNT);
        if (!stream) {
          throw rateLimited(
            { bucket: 'event_streams', limit: MAX_STREAMS_PER_ACCOUNT, remaining: 0, retry_after: 5, window_seconds: 0 },
            { 'x-ratelimit-limit': String(MAX_STREAMS_PER_ACCOUNT), 'x-ratelimit-remaining': '0' },
          );
        }
        return new Response(stream, { headers });
      },
      {
        auth: 'queue:read',
        query: EventsQuery,
        response: {
          200: binaryResponse('The event stream.', ['text/event-stream']),
          ...errorResponses(400, 401, 403, 429),
        },
        detail: {
          summary: 'Live job events (Server-Sent Events)',
          description:
            'Events `job.created`, `job.started`, `job.progress`, `job.retrying`, `job.completed`, `job.failed`, `job.cancel_requested`, `job.cancelled`, `job.released`; ' +
            '`data` is JSON `{job_id, type, status, attempts, max_attempts, progress, file_id, user_id, last_error, run_at, event, at}` (`user_id` null for the server\'s own housekeeping). ' +
            'Every event has an `id:`; reconnect with `Last-Event-ID` (or `?last_event_id=`; with both, the header wins) to receive every missed event once, in order. ' +
            'An id no event had yet (kept from another database, or made up) is a 400. '
            + 'A `: heartbeat` comment is sent after 15 s without events. Events from every instance are included. '
            + 'The caller is checked again before each batch and heartbeat: a ban, a revoked key or an expired token ends the stream (resume with `Last-Event-ID` once signed in again). '
            + `An account holds at most ${MAX_STREAMS_PER_ACCOUNT} streams open on one server process: the next is a 429 \`RATE_LIMITED\` (\`bucket: event_streams\`) until one closes.`,
          'x-headers': [{ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' }, description: 'The `id:` of the last event received, to resume after it (what browsers send on reconnecting).' }],
        },
      },
    );
}
