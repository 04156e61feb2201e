/**
 * Derivative cache control (API.md §6): purge one file's derivatives everywhere, and stats.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses } from '../../errors';
import { authGuard } from '../auth/guard';
import { getManagedFileOrThrow } from '../files/service';
import { deleteStoredRenditions } from '../video/stored';

const TierStats = t.Object({
  items: t.Integer(), bytes: t.Integer(), max_bytes: t.Integer(), hits: t.Integer(), misses: t.Integer(),
});

export function cacheRoutes(deps: AppDeps) {
  const delivery = deps.delivery;
  return new Elysia({ name: 'pictor.cache' })
    .use(authGuard(deps))
    .delete('/api/cache/:id', async ({ params, principal }) => {
      const row = await getManagedFileOrThrow(deps, principal, params.id);
      const invalidated = await delivery.cache.purgeOriginal(row.sha256);
      await deleteStoredRenditions(deps, row.sha256); // video renditions kept for other cache folders (video/stored.ts)
      // Every other instance drops its copies (and this one its lookup entry) within a second.
      await delivery.lookup.invalidate({ id: row.id, sha256: row.sha256, purge: true });
      return { invalidated };
    }, {
      auth: 'cache:write',
      params: t.Object({ id: t.String() }),
      response: { 200: t.Object({ invalidated: t.Integer({ description: 'Derivatives removed on this instance.' }) }), ...errorResponses(401, 403, 404) },
      detail: {
        tags: ['cache'],
        summary: 'Drop every derivative of a file',
        description: 'Memory and disk, on every instance (Redis pub/sub or Postgres NOTIFY). Derivatives are content-addressed, so files with identical bytes share them.',
      },
    })
    .get('/api/cache/stats', () => {
      const { memory, disk } = delivery.cache.stats();
      const pool = delivery.pool.stats();
      return { memory, disk, transforms: { in_flight: pool.in_flight, queued: pool.queued, rejected: pool.rejected, completed: pool.completed, timed_out: pool.timed_out } };
    }, {
      auth: 'admin',
      response: {
        200: t.Object({
          memory: TierStats,
          disk: TierStats,
          transforms: t.Object({
            in_flight: t.Integer(), queued: t.Integer(), rejected: t.Integer(), completed: t.Integer(),
            timed_out: t.Integer({ description: 'Renders abandoned at TRANSFORM_TIMEOUT_MS (answered 503); their work is stopped, and in_flight counts them until it has.' }),
          }),
        }),
        ...errorResponses(401, 403),
      },
      detail: { tags: ['cache'], summary: 'Derivative cache and transform pool statistics (admin)' },
    });
}
