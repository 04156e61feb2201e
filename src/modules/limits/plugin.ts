/**
 * The HTTP side of the limiter.
 *
 * `publicRateLimit(deps)` (mounted once in `createApp`) applies the `public` bucket to every
 * `/i`, `/d`, `/t` and `/authenticated` request before routing, so cache hits, 304s and 404s
 * (id scanning) all count, per client IP, and no database or cache work happens once over.
 *
 * Routes call `enforceIpLimit` for their own IP-keyed buckets (`register`, `sensitive`…);
 * account buckets go through `enforceAccountLimits` (the auth guard does `api`).
 *
 * The `enforce*` functions are the HTTP face of service.ts's `check*`: they read the client IP
 * from the request and set the `X-RateLimit-*` headers of the tightest bucket on the response.
 */
import { Elysia } from 'elysia';
import type { AppDeps } from '../../deps';
import { socketAddress } from '../../platform/server';
import { clientIp, ipLimitKey } from './client-ip';
import {
  checkAccountLimits, checkApiLimit, checkLimits, rateLimitHeaders, type Account, type LimitCheck, type WindowBucket,
} from './service';
import type { WindowDecision } from './types';

/** Anything with Elysia's `set.headers` (the route context's `set`). */
export interface HeaderSink {
  headers: Record<string, string | number | undefined> | Record<string, unknown>;
}

/** Sets each decision's headers unless a tighter bucket (smaller remaining share) already set them on this response. */
export function applyLimitHeaders(set: HeaderSink, decisions: readonly WindowDecision[]): void {
  const h = set.headers as Record<string, unknown>;
  for (const d of decisions) {
    const limit = Number(h['x-ratelimit-limit']);
    const remaining = Number(h['x-ratelimit-remaining']);
    if (limit > 0 && remaining / limit < d.remaining / d.limit) continue;
    Object.assign(h, rateLimitHeaders(d));
  }
}

/** What `startUploadLimits` (upload.ts) reports its decisions to: this response's headers. */
export const limitHeadersOf = (set: HeaderSink) => (decisions: readonly WindowDecision[]) => applyLimitHeaders(set, decisions);

/** The declared body length, or null when absent or malformed (chunked uploads). */
export function contentLengthOf(request: Request): number | null {
  const raw = request.headers.get('content-length');
  return raw !== null && /^\d+$/.test(raw.trim()) ? Number(raw) : null;
}

/** The client IP of a request, honouring `TRUST_PROXY` (API.md §7; parsed once, in `buildDeps`). */
export function clientIpOf(deps: Pick<AppDeps, 'trustProxy'>, request: Request): string {
  return clientIp(deps.trustProxy, socketAddress(request), request.headers.get('x-forwarded-for'));
}

/** The key of this request's client in IP buckets (an IPv6 client by its /64: client-ip.ts). */
export const clientLimitKeyOf = (deps: Pick<AppDeps, 'trustProxy'>, request: Request): string => ipLimitKey(clientIpOf(deps, request));

/** `checkLimits`, with the headers set on the response. */
export async function enforceLimits(deps: Pick<AppDeps, 'config' | 'limiter' | 'clock'>, set: HeaderSink, checks: LimitCheck[]): Promise<WindowDecision[]> {
  const decisions = await checkLimits(deps, checks);
  applyLimitHeaders(set, decisions);
  return decisions;
}

/** Checks and counts one bucket; throws 429 `RATE_LIMITED` when over. */
export async function enforceLimit(
  deps: Pick<AppDeps, 'config' | 'limiter' | 'clock'>, set: HeaderSink, bucket: WindowBucket, key: string, weight = 1,
): Promise<WindowDecision | null> {
  const [d] = await enforceLimits(deps, set, [{ bucket, key, weight }]);
  return d ?? null;
}

/** Enforces an IP-keyed bucket for this request (`public`, `transform`, `register`, `password_reset`, `sensitive`). */
export const enforceIpLimit = (deps: AppDeps, request: Request, set: HeaderSink, bucket: WindowBucket, weight = 1) =>
  enforceLimit(deps, set, bucket, clientLimitKeyOf(deps, request), weight);

/**
 * The allowed decision of an IP bucket when the limiter can make it without waiting (a local
 * slice, the in-process window), for the delivery fast path to answer synchronously; undefined
 * when it needs a round trip or refuses (then `enforceIpLimit` decides, and answers the 429).
 */
export function ipLimitNow(deps: AppDeps, request: Request, bucket: WindowBucket): WindowDecision | undefined {
  const d = deps.limiter.consumeNow?.({ bucket, key: clientLimitKeyOf(deps, request), rule: deps.config.rateLimits[bucket], weight: 1 });
  return d?.allowed ? d : undefined;
}

/** `checkAccountLimits`, with the headers set on the response. */
export async function enforceAccountLimits(deps: AppDeps, set: HeaderSink, account: Account, checks: Omit<LimitCheck, 'key'>[]): Promise<WindowDecision[]> {
  const decisions = await checkAccountLimits(deps, account, checks);
  applyLimitHeaders(set, decisions);
  return decisions;
}

/** The `api` bucket (service.ts `checkApiLimit`), with the headers set on the response. */
export async function enforceApiLimit(deps: AppDeps, path: string, set: HeaderSink, account: Account): Promise<void> {
  applyLimitHeaders(set, await checkApiLimit(deps, path, account));
}

/** Path prefixes of public delivery (API.md §5, §6). */
const PUBLIC_PREFIXES = ['/i/', '/d/', '/t/', '/authenticated/'];

/** Whether a request path (without query) is public delivery. */
export const isPublicDelivery = (path: string): boolean => PUBLIC_PREFIXES.some((p) => path.startsWith(p));

export function publicRateLimit(deps: AppDeps) {
  const app = new Elysia({ name: 'pictor.limits.public' });
  if (deps.config.disableRateLimit) return app;
  // `path` is the one the router matches (derived once by Elysia per request): a limiter reading
  // the URL itself could disagree with the router and let requests through uncounted.
  return app.onRequest(async (ctx) => {
    // The pre-routing context's type omits `path`, but Elysia sets it before any onRequest hook.
    const { request, path, set } = ctx as typeof ctx & { path: string };
    if (isPublicDelivery(path)) await enforceIpLimit(deps, request, set, 'public');
  });
}
