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

/** The path of a request URL without parsing it (this runs on every request). */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  return start < 0 ? '/' : url.slice(start);
}

export const isPublicDelivery = (url: string): boolean => {
  const path = pathOf(url);
  return PUBLIC_PREFIXES.some((p) => path.startsWith(p));
};

export function publicRateLimit(deps: AppDeps) {
  const app = new Elysia({ name: 'pictor.limits.public' });
  if (deps.config.disableRateLimit) return app;
  return app.onRequest(async ({ request, set }) => {
    if (isPublicDelivery(request.url)) await enforceIpLimit(deps, request, set, 'public');
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
