/**
 * Request plumbing shared by every route: request ids, bounded JSON parsing (415 for other
 * bodies), refusal of unknown query parameters and body fields, the error mapper and the
 * 404/405 distinction. Registered once, globally, by `createApp`.
 */
import { Elysia, ValidationError } from 'elysia';
import type { AppDeps } from './deps';
import { API_SECURITY_HEADERS, assertNoNulInBody, assertNoNulInUrl, assertWellFormedBody } from './hardening';
import { inputCheck, type RouteShape } from './inputs';
import { isPublicDelivery } from './modules/limits/plugin';
import { acceptsHtml, errorPage } from './lib/form-page';
import { jsonNestsDeeper } from './lib/json-depth';
import { pathOf, queryOf } from './lib/request-path';
import { clientDisconnected, keepSocketAddress, keepSocketAddressOf } from './platform/server';
import {
  AppError, bodyTimedOut, errorResponse, fromValidation, insufficientStorage, internalError, isDiskFullError, methodNotAllowed, outageCause, outageOf, payloadTooLarge,
  routeNotFound, unsupportedMediaType, validationError,
} from './errors';

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** The deepest JSON body taken (settings' watermarks, custom metadata: 2 or 3 levels). */
const MAX_JSON_DEPTH = 32;

/** Id and start time of each request in flight; a WeakMap so nothing outlives its request. */
const requestInfo = new WeakMap<Request, { id: string; startedAt: number }>();

/** The request id assigned to (or echoed for) this request. */
export const requestIdOf = (request: Request): string => requestInfo.get(request)?.id ?? 'unknown';

/** When this request started (`performance.now()`), or undefined for a request this app never saw. */
export const requestStartOf = (request: Request): number | undefined => requestInfo.get(request)?.startedAt;

/**
 * Assigns the request id (the client's `X-Request-Id` when well-formed, else a UUID) and records
 * the start time. The routed path does it in the global `onRequest`; the delivery fast path
 * (src/modules/transform/fast.ts) calls it itself, since it answers before Elysia runs.
 */
export function beginRequest(request: Request): string {
  const given = request.headers.get('x-request-id');
  const id = given !== null && REQUEST_ID_RE.test(given) ? given : crypto.randomUUID();
  requestInfo.set(request, { id, startedAt: performance.now() });
  return id;
}

export { pathOf };

/** What every request-done observer receives, however the response was produced. */
export interface RequestDone {
  request: Request;
  /** Route template (`/api/files/:id`), or '' when no route matched. */
  route: string;
  status: number;
  /** The handler's value (a Response, a string, an object…), for body-size accounting. */
  response: unknown;
}

/** Runs after a response was sent; must not throw (errors are logged and swallowed). */
export type RequestObserver = (done: RequestDone) => void;

/**
 * What plugins tell the plumbing about their routes and requests, per app (built by
 * `buildDeps`): the observers of finished requests, the routes that read their own body or a
 * form, and the page that answers unmatched deep links.
 */
export interface RequestHooks {
  observers: RequestObserver[];
  /** Set once the plumbing was built (the global hook was, or was not, installed); later observers are a bug. */
  sealed: boolean;
  /** Routes (Elysia route patterns) whose handler streams `request.body` itself: uploads. */
  streamingRoutes: Set<string>;
  /** Routes that also take an `application/x-www-form-urlencoded` body (a server-rendered HTML form). */
  formRoutes: Set<string>;
  /** Routes of server-rendered pages whose refusals are pages too: a title, and whether only a browser's request gets one. */
  errorPages: Map<string, { title: string; browserOnly: boolean }>;
  unmatchedPage: UnmatchedPage | null;
  /** Modules that can say why a path of theirs matched no route (a 400 instead of the bare 404). */
  unmatchedReasons: UnmatchedReason[];
}

export function createRequestHooks(): RequestHooks {
  return { observers: [], sealed: false, streamingRoutes: new Set(), formRoutes: new Set(), errorPages: new Map(), unmatchedPage: null, unmatchedReasons: [] };
}

/**
 * Registers an observer of finished requests (traffic, access log, metrics, request logs). They
 * share one global after-response hook instead of one each, installed only when somebody
 * observes. Register before `httpPlumbing(deps)` is built (`buildDeps` and the observing plugins,
 * which createApp builds first).
 */
export function onRequestDone(deps: Pick<AppDeps, 'requests'>, fn: RequestObserver): void {
  const h = deps.requests;
  if (h.sealed) throw new Error('onRequestDone: register observers before httpPlumbing(deps) is built');
  h.observers.push(fn);
}

/** Tells every observer that a request finished (the global hook and the delivery fast path call this). */
export function notifyRequestDone(deps: Pick<AppDeps, 'requests' | 'log'>, done: RequestDone): void {
  for (const fn of deps.requests.observers) {
    try {
      fn(done);
    } catch (err) {
      deps.log.error({ err }, 'request observer failed');
    }
  }
}

/** True when something observes finished requests (the fast path skips building `RequestDone` otherwise). */
export const hasRequestObservers = (deps: Pick<AppDeps, 'requests'>): boolean => deps.requests.observers.length > 0;

/**
 * A 204 with a null body. Deno refuses a 204 whose body is an empty string (what Elysia builds
 * from `set.status = 204`) and drops the connection, so bodiless answers go through this.
 */
export const noContent = (): Response => new Response(null, { status: 204 });

/** Reads a body as text, refusing (413) by `Content-Length` before reading, or the moment it grows too big. */
export async function readTextLimited(request: Request, maxBytes: number, idleMs?: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw payloadTooLarge(maxBytes);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = idleMs === undefined ? await reader.read() : await readWithin(reader, idleMs);
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  try {
    // Fatal: bytes that are not UTF-8 were read as U+FFFD and stored so. `ignoreBOM` keeps a BOM in
    // the text, where JSON.parse refuses it as before.
    return UTF8.decode(Buffer.concat(chunks, total));
  } catch {
    throw validationError('The request body is not valid UTF-8.', [{ in: 'body', path: '/', message: 'not valid UTF-8' }]);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * One name or value of a form body, as WHATWG's form decoding reads it (`+` is a space, a `%`
 * without two hex digits is itself), except that escapes must spell UTF-8: it reads them as U+FFFD.
 */
function formDecoded(part: string): string {
  return part.replaceAll('+', ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return UTF8.decode(Buffer.from(run.replaceAll('%', ''), 'hex'));
    } catch {
      throw validationError('The form body holds %-escapes that do not spell UTF-8.', [{ in: 'body', path: '/', message: 'not valid percent-encoded UTF-8' }]);
    }
  });
}

/**
 * A form body's fields; one sent twice is refused, as in a JSON body's schema. Split and decoded
 * here rather than by URLSearchParams, which reads escapes that are not UTF-8 (`%FF`) as U+FFFD.
 */
function formFields(text: string): Record<string, string> {
  const fields = new Map<string, string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = formDecoded(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : formDecoded(pair.slice(eq + 1));
    if (fields.has(name)) {
      throw validationError(`The form field ${name.slice(0, 64)} takes one value; it was given more than once.`, [{ in: 'body', path: `/${name.slice(0, 64)}`, message: 'given more than once' }]);
    }
    fields.set(name, value);
  }
  return Object.fromEntries(fields); // own keys, `__proto__` too, for the schema to refuse
}

/**
 * One read of a body, or a 408 when nothing arrives for `ms`: a client that sent part of a JSON
 * body and stopped got no answer (Bun closed the connection after 60 s; Deno never did).
 */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<Awaited<ReturnType<typeof reader.read>>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      stalled = true;
      resolve(null);
    }, ms);
  });
  try {
    const result = await Promise.race([reader.read(), timeout]);
    // Cancelling ends the pending read as if the body had ended: decided by the flag, not by what the read says.
    if (stalled || result === null) {
      await reader.cancel().catch(() => {});
      throw bodyTimedOut(Math.round(ms / 1000));
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Marks a route as reading its own body, so the global parser leaves the stream untouched.
 * (A route's `parse: 'none'` alone is not enough once a global parse hook exists.)
 */
export function streamRequestBody(deps: Pick<AppDeps, 'requests'>, route: string): void {
  deps.requests.streamingRoutes.add(route);
}

/** Lets a route read a URL-encoded form body (capped like JSON) besides JSON; every other route answers it 415. */
export function acceptFormBody(deps: Pick<AppDeps, 'requests'>, route: string): void {
  deps.requests.formRoutes.add(route);
}

/**
 * Makes a route's refusals (its body's validation too, made before its handler runs) an HTML
 * page titled `title` rather than the JSON envelope: always, for a route that answers pages only,
 * or with `browserOnly`, when the request is a browser's (its `Accept` names `text/html`).
 */
export function answerErrorsAsPage(deps: Pick<AppDeps, 'requests'>, route: string, title: string, browserOnly = false): void {
  deps.requests.errorPages.set(route, { title, browserOnly });
}

/** Answers a request no route matched, or returns undefined for the usual 404/405. */
export type UnmatchedPage = (request: Request, path: string) => Response | undefined;

/** Lets the web app answer deep links (any unmatched GET it claims) with its shell. */
export function onUnmatchedPage(deps: Pick<AppDeps, 'requests'>, fn: UnmatchedPage): void {
  deps.requests.unmatchedPage = fn;
}

/** The error a request no route matched deserves, when a module can tell (else undefined: 404/405). */
export type UnmatchedReason = (request: Request, path: string) => AppError | undefined;

/** Lets a module explain its own unmatched paths (a transformation chain too long: 400, not "No route"). */
export function onUnmatchedPath(deps: Pick<AppDeps, 'requests'>, fn: UnmatchedReason): void {
  deps.requests.unmatchedReasons.push(fn);
}

interface RouteInfo {
  method: string;
  pattern: RegExp;
}

/** Compiles Elysia paths (`/api/files/:id`, `/t/*`) into regexes, for telling 405 from 404. */
function compileRoutes(routes: { method: string; path: string }[]): RouteInfo[] {
  return routes.map((r) => {
    // A group's own route is registered as `/api/files/`; the optional slash is added below.
    const source = r.path
      .replace(/(.)\/$/, '$1')
      .split('/')
      .map((seg) => (seg === '*' ? '.*' : seg.startsWith(':') ? '[^/]+' : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    return { method: r.method.toUpperCase(), pattern: new RegExp(`^${source}/?$`) };
  });
}

/** Answers who calls (401/403 thrown) for a route with these hooks, when its guard asks; auth/guard.ts `authorizeFirst`. */
export type AuthorizeFirst = (request: Request, routeHooks: unknown) => Promise<void>;

/**
 * The global hooks. `routesOf` is read lazily (first 404, first query string or body) so that
 * it sees every route registered after this plugin.
 */
export function httpPlumbing(deps: AppDeps, routesOf: () => RouteShape[], authorizeFirst: AuthorizeFirst = async () => {}) {
  let compiled: RouteInfo[] | null = null;
  const hooks = deps.requests;
  const checkInputs = inputCheck(routesOf);
  let routeHooks: Map<string, unknown> | null = null;
  /**
   * Throws `err`, the refusal of an input checked before the route's guard ran, once the guard's
   * own question is answered: a caller who may not use the route gets its 401/403 instead.
   */
  const refuseInput = async (request: Request, route: string, err: unknown): Promise<never> => {
    if (err instanceof AppError && route) {
      routeHooks ??= new Map(routesOf().map((r) => [`${r.method.toUpperCase()} ${r.path}`, r.hooks]));
      const hooksOf = routeHooks.get(`${request.method} ${route}`) ?? (request.method === 'HEAD' ? routeHooks.get(`GET ${route}`) : undefined);
      if (hooksOf) await authorizeFirst(request, hooksOf);
    }
    throw err;
  };

  /** The JSON (or, where a route takes one, form) body, read under its cap and checked. */
  const parseBody = async (request: Request, contentType: string | undefined, route: string): Promise<unknown> => {
    // Every body these routes read is JSON, read with a hard cap (uploads opt out above). Any
    // other type — text/plain, a form, no Content-Type at all — is refused (415) rather than
    // guessed at: guessing answered 200 and changed nothing.
    const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const json = mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
    const form = mime === 'application/x-www-form-urlencoded' && hooks.formRoutes.has(route);
    if (!json && !form && mime !== '') {
      const takes = hooks.formRoutes.has(route) ? 'application/json or a form (application/x-www-form-urlencoded)' : 'application/json';
      throw unsupportedMediaType(`This route takes ${takes}, not ${mime}.`, { detected: mime });
    }
    // JSON is UTF-8 (RFC 8259): a body declared in another charset was read as UTF-8 all the same.
    // Asked before reading, so its bytes are not called invalid UTF-8 first; Elysia's
    // `contentType` is the type alone, so the parameter comes from the header.
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers.get('content-type') ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
      throw unsupportedMediaType(`This route reads UTF-8, not ${charset.slice(0, 40)}: send the body in UTF-8 (or leave out charset).`, { detected: `${mime}; charset=${charset.slice(0, 40)}` });
    }
    const text = await readTextLimited(request, deps.config.maxJsonBodyBytes, deps.config.uploadIdleTimeoutMs);
    if (text.trim() === '') return {};
    if (mime === '') {
      throw unsupportedMediaType('This route takes a JSON body: send it with Content-Type: application/json.', { detected: 'none' });
    }
    let parsed: unknown;
    if (form) parsed = formFields(text);
    else {
      if (jsonNestsDeeper(text, MAX_JSON_DEPTH)) {
        throw validationError(`The request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels; no field of this API does.`, [{ path: '/', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }]);
      }
      try {
        parsed = JSON.parse(text) as unknown;
      } catch (err) {
        // In Pictor's words: the runtime's ("JSON Parse error: Unexpected EOF" on Bun, "Unexpected end of JSON input" on Deno) differed.
        const early = /EOF|end of JSON/i.test((err as Error).message);
        throw validationError('The request body is not valid JSON.', [{ path: '/', message: early ? 'ends before the JSON does' : 'is not valid JSON (check quotes, commas and brackets)' }]);
      }
      // Every JSON body this API takes is an object: `[]` passed an all-optional schema (PATCH answered 200, changing nothing).
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw validationError('The request body must be a JSON object.', [{ path: '/', message: `got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}` }]);
      }
    }
    // A NUL can only come from a `\u0000` escape (JSON) or `%00` (form): scan only then.
    if (text.includes(form ? '%00' : '\\u0000')) assertNoNulInBody(parsed);
    if (!form && text.includes('\\u')) assertWellFormedBody(parsed);
    return parsed;
  };

  const allowedMethods = (path: string): string[] => {
    compiled ??= compileRoutes(routesOf());
    const methods = new Set(compiled.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].filter((m) => m !== 'ALL').sort();
  };

  // One access-log line per request at debug level; not even registered above it.
  if (deps.log.isLevelEnabled('debug')) {
    onRequestDone(deps, ({ request, status }) => {
      const startedAt = requestStartOf(request);
      deps.log.debug(
        {
          request_id: requestIdOf(request),
          method: request.method,
          path: pathOf(request.url),
          status,
          duration_ms: startedAt === undefined ? undefined : Math.round((performance.now() - startedAt) * 100) / 100,
        },
        'request',
      );
    });
  }
  hooks.sealed = true;

  const app = new Elysia({ name: 'pictor.http' })
    .onRequest((ctx) => {
      // The pre-routing context's type omits `path`, but Elysia sets it before any onRequest hook.
      const { request, set, path } = ctx as typeof ctx & { path: string };
      set.headers['x-request-id'] = beginRequest(request);
      if (!isPublicDelivery(path)) Object.assign(set.headers, API_SECURITY_HEADERS);
    });
  if (hooks.observers.length > 0) {
    app.onAfterResponse({ as: 'global' }, ({ request, set, route, responseValue }) => {
      // An error's answer is the envelope the mapper built, not the thrown value (request logs sized it as 0 bytes).
      const response = errorAnswers.get(request) ?? responseValue;
      const status = response instanceof Response ? response.status : typeof set.status === 'number' ? set.status : 200;
      notifyRequestDone(deps, { request, route, status, response });
    });
  }
  return app
    .onParse({ as: 'global' }, async ({ request, contentType, route }) => {
      // null (not undefined) marks the body as handled, so no later parser reads the stream either.
      if (hooks.streamingRoutes.has(route)) return null;
      return parseBody(request, contentType, route).catch((err: unknown) => refuseInput(request, route, err));
    })
    // Unknown query parameters and body fields → 400 naming them (src/inputs.ts); before
    // validation, so a misspelt parameter is reported as such rather than as a missing one.
    // A NUL in the path or query (`%00`) → 400 here, before any handler could put it in a query.
    .onTransform({ as: 'global' }, async ({ request, route, body }) => {
      assertNoNulInUrl(request.url);
      try {
        checkInputs(request, route, body);
      } catch (err) {
        await refuseInput(request, route, err);
      }
    })
    .onError({ as: 'global' }, ({ error, code, request, set, route }) => {
      const path = pathOf(request.url);
      if (clientDisconnected(request, error)) {
        // The client went away mid-request (an upload cut off, a body half sent): nothing failed
        // here and nobody reads the answer. Logged at debug, counted apart, and reported to the
        // request metrics and logs as 499, nginx's "client closed request" (never as a 500).
        deps.metrics.clientAborts.inc({ route: route || 'unmatched' });
        deps.log.debug({ request_id: requestIdOf(request), method: request.method, path, reason: (error as Error)?.message }, 'client closed the request');
        set.status = CLIENT_CLOSED_REQUEST;
        return new Response(null, { status: CLIENT_CLOSED_REQUEST });
      }
      const headers: Record<string, string> = {
        ...(isPublicDelivery(path) ? {} : API_SECURITY_HEADERS),
        'x-request-id': requestIdOf(request),
      };
      // Rate-limit headers set before the failure stay on error responses too (API.md §7), and so
      // do CORS headers (a browser must be able to read why a presigned upload was refused) and
      // tus's `Tus-Resumable` (on every tus answer).
      for (const [k, v] of Object.entries(set.headers)) {
        if ((k.startsWith('x-ratelimit-') || k.startsWith('access-control-') || k === 'vary' || k === 'tus-resumable') && typeof v === 'string') headers[k] = v;
      }
      // Elysia wraps whatever a parser throws in a ParseError; our parser throws AppErrors.
      const cause = code === 'PARSE' ? (error as Error).cause : undefined;
      let appError: AppError;
      let outage: AppError | null;
      if (error instanceof AppError) appError = error;
      else if (cause instanceof AppError) appError = cause;
      else if (error instanceof ValidationError || code === 'VALIDATION') appError = describeValidation(error as ValidationError, request, (name) => checkInputs.isQueryNumber(request.method, route, name));
      else if (code === 'PARSE') appError = validationError('The request body could not be parsed.', [{ path: '/', message: 'malformed body' }]);
      else if (isDiskFullError(error)) appError = insufficientStorage();
      else if ((outage = outageOf(error))) appError = outage;
      else if (code === 'NOT_FOUND') {
        // A page of the web app (`/files/…`, `/library`): its shell, not a JSON 404 (src/modules/webapp).
        const page = hooks.unmatchedPage?.(request, path);
        if (page) {
          set.status = page.status;
          return page;
        }
        const allowed = allowedMethods(path);
        const reason = hooks.unmatchedReasons.map((fn) => fn(request, path)).find((e) => e !== undefined);
        appError = reason ?? (allowed.length && !allowed.includes(request.method)
          ? methodNotAllowed(request.method, allowed)
          : routeNotFound(request.method, path));
      } else {
        appError = internalError(requestIdOf(request));
        deps.log.error({ err: error, request_id: requestIdOf(request), method: request.method, url: request.url }, 'unhandled error');
      }
      if (appError.status >= 500 && appError.code !== 'INTERNAL_ERROR') {
        deps.log.warn({ request_id: requestIdOf(request), code: appError.code, cause: outageCause(appError) }, appError.message);
      }
      set.status = appError.status;
      // Request logs attribute refusals made before the guard read the peer address, and read it
      // after the response, when Bun no longer knows it.
      if (hooks.observers.length > 0) keepSocketAddress(request);
      const page = hooks.errorPages.get(route);
      const answer = page && (!page.browserOnly || acceptsHtml(request)) ? errorPage(page.title, appError, headers) : errorResponse(appError, headers);
      errorAnswers.set(request, answer);
      return answer;
    });
}

/**
 * The 400 for a validation failure. Elysia words each failure with the value it saw, and some
 * values cannot be printed (one that holds itself, or too deep for the stack): the mapper
 * throwing left the client Bun's plain-text 500, with no envelope and no request id.
 */
function describeValidation(error: ValidationError, request: Request, isNumber: (name: string) => boolean): AppError {
  try {
    return fromValidation(error, new URLSearchParams(queryOf(request.url)), isNumber);
  } catch {
    const where = error.type === 'params' ? 'path' : error.type;
    return validationError(`Invalid ${where}: a value does not match its field's rule.`, [{ path: '/', message: 'is invalid' }]);
  }
}

/** The error envelope each failed request was answered with, for the observers of finished requests. */
const errorAnswers = new WeakMap<Request, Response>();

/** Status recorded for a request whose client disconnected before the answer (nginx's 499). */
export const CLIENT_CLOSED_REQUEST = 499;

/** The real `Content-Length` of HEAD answers built without their body (`headResponse`). */
const headLengths = new WeakMap<Request, number>();

/**
 * The answer to a HEAD request whose handler knows the length without producing the body (a
 * stored original: opening the object only to drop it would cost a storage read). Elysia's
 * router answers HEAD on a path with a GET route by running the GET handler and setting
 * `Content-Length` to the bytes of the body it returned, which here are none;
 * `withHeadLength` puts the length recorded here back.
 */
export function headResponse(request: Request, status: number, headers: Record<string, string>, length: number): Response {
  headLengths.set(request, length);
  return new Response(null, { status, headers });
}

/** Restores the `Content-Length` a `headResponse` declared (see there); the server's handler (app.ts) calls it for HEAD requests. */
export function withHeadLength(request: Request, response: Response | Promise<Response>): Response | Promise<Response> {
  const fix = (r: Response) => {
    const length = headLengths.get(request);
    if (length !== undefined) r.headers.set('content-length', String(length));
    // The router's `Content-Length: 0` on a 304 is false (RFC 9110 §8.6: absent, or the 200's length).
    else if (r.status === 304) r.headers.delete('content-length');
    return r;
  };
  return response instanceof Response ? fix(response) : response.then(fix);
}

/**
 * An HTTP/1.0 request may come without a Host (health checks do: HAProxy's `httpchk`); Bun hands
 * it over with a bare path as its URL. It is served as if sent to `localhost` (links come from
 * `PUBLIC_URL`, never from Host), with the peer address of the original. Other requests as they are.
 */
export function withDefaultHost(request: Request): Request {
  if (request.url.charCodeAt(0) !== 47 /* '/' */ || request.headers.has('host')) return request;
  const full = new Request(`http://localhost${request.url}`, request);
  keepSocketAddressOf(full, request);
  return full;
}

/**
 * Bun hands a request whose Host is no valid authority (`Host: évil`) over with a bare path as
 * its URL, which the router (path from character 7) and the limiter (`pathOf`) would cut in
 * different places: such a request is refused before either sees it, as nginx does. Undefined
 * for every other request.
 */
export function refuseInvalidHost(request: Request): Response | undefined {
  if (request.url.charCodeAt(0) !== 47 /* '/' */ || !request.headers.has('host')) return undefined;
  return errorResponse(validationError('The Host header is not a valid host name.', [{ path: '/Host', message: 'is not a valid host' }]), {
    'x-request-id': beginRequest(request),
  });
}
