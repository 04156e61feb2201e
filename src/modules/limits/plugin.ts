/**
 * The HTTP side of the limiter.
 *
 * `publicRateLimit(deps)` (mounted once in `createApp`) applies the `public` bucket to every
 * `/i`, `/d`, `/t` and `/authenticated` request before routing, so cache hits, 304s and 404s
 * (id scanning) all count, per client IP, and no database or cache work happens once over.
 *
 * `rateLimitPlugin(deps)` adds a route option for other IP-keyed buckets:
 *
 *   new Elysia().use(rateLimitPlugin(deps)).post('/api/auth/register', handler, { rateLimit: 'register' })
 *
 * Account buckets go through `enforceAccountLimits` (the auth guard does `api`).
 */
import { Elysia } from 'elysia';
import type { AppDeps } from '../../deps';
import { enforceIpLimit, type WindowBucket } from './service';

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

export function rateLimitPlugin(deps: AppDeps) {
  return new Elysia({ name: 'pictor.limits' }).macro({
    rateLimit: (bucket: WindowBucket) => ({
      async beforeHandle({ request, set }) {
        await enforceIpLimit(deps, request, set, bucket);
      },
    }),
  });
}
