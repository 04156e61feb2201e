/**
 * Route option for IP-keyed buckets:
 *
 *   new Elysia().use(rateLimitPlugin(deps)).get('/i/:id', handler, { rateLimit: 'public' })
 *
 * runs before the handler (and before any database work), sets `X-RateLimit-*` and throws the
 * 429 of API.md §7. Account buckets go through `enforceAccountLimits` (the auth guard does `api`).
 */
import { Elysia } from 'elysia';
import type { AppDeps } from '../../deps';
import { enforceIpLimit, type WindowBucket } from './service';

export function rateLimitPlugin(deps: AppDeps) {
  return new Elysia({ name: 'pictor.limits' }).macro({
    rateLimit: (bucket: WindowBucket) => ({
      async beforeHandle({ request, set }) {
        await enforceIpLimit(deps, request, set, bucket);
      },
    }),
  });
}
