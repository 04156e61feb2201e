/**
 * The delivery fast path: memory-cache hits (and 304s) of public `/t` URLs answered before
 * Elysia routes the request, so the hottest response of the server skips the per-request
 * context, routing, schema checks and hook chain (`bench/transform.sh` reports the server's CPU
 * per hit). The server's handler (app.ts `createHandler`) asks it before the router;
 * `pictor_delivery_fast_path_responses_total` counts what it answers.
 *
 * Design:
 * - It is a shortcut, never a second implementation: `resolveNow` (service.ts) is the
 *   synchronous half of the one resolution `resolve` runs, and declines (undefined) wherever
 *   `resolve` would await (lookup-cache miss, format needing a probe, layers) or throw (bad
 *   segment, policy, private, banned, expired). Declined requests, memory misses, signed URLs (`/authenticated`), query strings
 *   and percent-encoded paths all fall through to the routed handler unchanged; errors are
 *   only ever produced there. Headers come from the same helpers (headers.ts).
 * - Per URL (path + what negotiation reads from `Accept`) a small LRU memoises the resolution
 *   and, per cached entry, the complete header object, so a hit costs: one LRU get, one
 *   lookup-cache peek (identity check: an invalidation or TTL refresh replaces the lookup
 *   object, which voids the memo), one memory-tier get (identity check against the memoised
 *   entry), the public bucket, and `new Response(bytes, {headers})`. Only immutable responses
 *   (public file without expiry, no `exp_`) are memoised, so no header depends on the clock.
 * - The `public` bucket is consumed here, once, before answering (as `publicRateLimit` does on
 *   the routed path). Once the bucket is counted the request is answered here whatever happens
 *   (a 429 with the same envelope and headers as the routed path), so nothing is counted twice.
 *   The cache entry was read before that await: an entry evicted or purged during the limiter's
 *   round trip is still served once, exactly as if the request had arrived a moment earlier.
 *   When the limiter can decide without a round trip (a local slice of the shared budget, or the
 *   in-process window: `consumeNow`), the hit is answered synchronously, with no promise at all.
 * - Request id, usage bytes, metrics and request logs go through the same functions as the
 *   routed path (`beginRequest`, `deps.usage.recordBytesServed`, `notifyRequestDone`).
 */
import { LRUCache } from 'lru-cache';
import type { AppDeps } from '../../deps';
import { AppError, errorResponse, internalError } from '../../errors';
import { beginRequest, hasRequestObservers, notifyRequestDone } from '../../http';
import { pathStart } from '../../lib/request-path';
import { memoryKey } from '../cache/memory';
import type { CachedDerivative } from '../cache/types';
import type { FileLookup } from '../cache/lookup';
import { deliveryCorsHeaders } from '../cors/plugin';
import { enforceIpLimit, ipLimitNow } from '../limits/plugin';
import { rateLimitHeaders } from '../limits/service';
import { unmodifiedSince } from '../../lib/http-cache';
import { derivativeHeaders, IMMUTABLE_CACHE_CONTROL, matchesEtag, notModifiedHeaders } from './headers';
import { readHints, type ClientHints } from './hints';
import { canonicalAccept } from './negotiate';
import { type ResolvedRequest } from './service';

const NO_HINTS: ClientHints = Object.freeze({});

/** The route template the routed path reports for these requests (metrics labels stay the same). */
const ROUTE = '/t/:transformations/:file';
/** What the memos may hold in all (fast.ts keeps at most 10 000 of them). */
const MEMO_BYTES = 24 * 1024 * 1024;

interface Memo {
  file: FileLookup;
  r: ResolvedRequest;
  /** `memoryKey(r.key)`, built once (cache/derivatives.ts `getMemoryAt`). */
  memoryKey: string;
  etag: string;
  /** Prebuilt `Headers` (the Response constructor copies a `Headers` about twice as fast as a plain object). */
  notModified: Headers;
  /** The memory entry `hit` was built for; a different (re-rendered) entry rebuilds it. */
  entry: CachedDerivative | null;
  hit: Headers | null;
}

/** A fetch-level shortcut: a Response (or its promise) when it answers, undefined to fall through. */
export type FetchShortcut = (request: Request) => Response | Promise<Response> | undefined;

export function createDeliveryFastPath(deps: AppDeps): FetchShortcut {
  const delivery = deps.delivery;
  const limited = !deps.config.disableRateLimit;
  // Bounded in count and in size: a valid chain URL may be ~5 KB long (MAX_CHAIN_STEPS segments of up to 1024
  // characters), and each memo holds about 2 KB of its own (the resolution's key, two header sets).
  const memos = new LRUCache<string, Memo>({ max: 10_000, maxSize: MEMO_BYTES, sizeCalculation: (_, key) => 2 * key.length + 2048 });
  // Built once: the memoised header sets below include them, so a hit pays nothing for CORS.
  const cors = deliveryCorsHeaders(deps.config);

  /** Resolves `/t/<segment>/<file>` (path already known to start with `/t/`) into a memo, or declines. */
  function memoFor(path: string, accept: string, memoKey: string, hints: ClientHints): Memo | undefined {
    // The last segment is the file; everything before it the step or the chain of steps.
    const slash = path.lastIndexOf('/');
    if (slash <= 3) return undefined;
    const r = delivery.resolveNow({ transformations: path.slice(3, slash), file: path.slice(slash + 1), accept, hints });
    if (!r || r.rendition || r.parsed.exp !== undefined || r.file.expiresAt !== null) return undefined;
    // Hint-dependent answers are memoised per hint values, which only URLs that say `_auto` add to the key (not a preset's).
    if (r.hints && !path.includes('_auto')) return undefined;
    const notModified = notModifiedHeaders(r, 0);
    if (notModified['cache-control'] !== IMMUTABLE_CACHE_CONTROL) return undefined;
    const memo: Memo = { file: r.file, r, memoryKey: memoryKey(r.key), etag: `"${r.key.variant}"`, notModified: new Headers({ ...notModified, ...cors }), entry: null, hit: null };
    memos.set(memoKey, memo);
    return memo;
  }

  function finish(request: Request, status: number, response: Response): Response {
    delivery.fastPath.responses++;
    if (hasRequestObservers(deps)) notifyRequestDone(deps, { request, route: ROUTE, status, response });
    return response;
  }

  function answer(request: Request, id: string, status: number, base: Headers, body: Uint8Array | null, limits?: Record<string, unknown>): Response {
    const response = new Response(body as Uint8Array<ArrayBuffer> | null, { status, headers: base });
    const headers = response.headers; // a copy: `base` stays as it is
    headers.set('x-request-id', id);
    if (limits) for (const k in limits) headers.set(k, String(limits[k]));
    return finish(request, status, response);
  }

  async function answerLimited(request: Request, id: string, memo: Memo, entry: CachedDerivative | undefined): Promise<Response> {
    const set = { headers: {} as Record<string, unknown> };
    try {
      await enforceIpLimit(deps, request, set, 'public');
    } catch (err) {
      const appError = err instanceof AppError ? err : internalError(id);
      if (!(err instanceof AppError)) deps.log.error({ err, request_id: id }, 'public limiter failed on the fast path');
      const headers: Record<string, string> = { ...cors, 'x-request-id': id };
      for (const k in set.headers) headers[k] = String(set.headers[k]);
      return finish(request, appError.status, errorResponse(appError, headers));
    }
    if (!entry) return answer(request, id, 304, memo.notModified, null, set.headers);
    deps.usage.recordBytesServed(memo.file.userId, entry.body.byteLength);
    return answer(request, id, 200, memo.hit as Headers, entry.body, set.headers);
  }

  return (request) => {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const url = request.url;
    const start = pathStart(url);
    // '/t/' by character codes: this runs for every request the server gets.
    if (start < 0 || url.charCodeAt(start + 1) !== 116 || url.charCodeAt(start + 2) !== 47) return undefined;
    const path = url.slice(start);
    if (path.includes('?') || path.includes('%')) return undefined;
    // Only what format negotiation reads from Accept: the memo keeps one entry per path and class, not per header a client makes up.
    const accept = canonicalAccept(request.headers.get('accept') ?? '');
    // `w_auto`/`dpr_auto` (hints.ts): the Client Hints are part of what the URL means.
    const hints = path.includes('_auto') ? readHints((n) => request.headers.get(n)) : NO_HINTS;
    const memoKey = hints === NO_HINTS ? `${path}\n${accept}` : `${path}\n${accept}\n${hints.width ?? ''}\n${hints.dpr ?? ''}`;
    let memo = memos.get(memoKey);
    const current = memo ? delivery.lookup.peek(memo.file.id)?.value : undefined;
    if (!memo || current !== memo.file) memo = memoFor(path, accept, memoKey, hints);
    if (!memo) return undefined;

    const inm = request.headers.get('if-none-match');
    let entry: CachedDerivative | undefined;
    if (!(inm !== null && matchesEtag(inm, memo.etag))) {
      entry = delivery.cache.getMemoryAt(memo.memoryKey);
      if (!entry) return undefined;
      // Without If-None-Match, If-Modified-Since decides (RFC 9110 §13.1.3).
      const ims = inm === null ? request.headers.get('if-modified-since') : null;
      if (ims !== null && unmodifiedSince(ims, entry.lastModified)) entry = undefined;
      else if (memo.entry !== entry) {
        memo.hit = new Headers({ ...derivativeHeaders(memo.r, entry, 'HIT-MEMORY', 0), ...cors });
        memo.entry = entry;
      }
    }
    const id = beginRequest(request);
    let limits: Record<string, string> | undefined;
    if (limited) {
      // Counted from a local slice (or the in-process window) without waiting: answered now;
      // otherwise the limiter's round trip, and its 429, go through `answerLimited`.
      const decision = ipLimitNow(deps, request, 'public');
      if (!decision) return answerLimited(request, id, memo, entry);
      limits = rateLimitHeaders(decision);
    }
    if (!entry) return answer(request, id, 304, memo.notModified, null, limits);
    deps.usage.recordBytesServed(memo.file.userId, entry.body.byteLength);
    return answer(request, id, 200, memo.hit as Headers, entry.body, limits);
  };
}
