/**
 * `createApp(deps)`: the root Elysia instance. Global plumbing first (request ids, bounded
 * parsing, the one error mapper), then the docs, then every feature's routes as plugins.
 * No module-level state: everything a route needs comes from `deps`.
 */
import { Elysia } from 'elysia';
import type { AppDeps } from './deps';
import { docs } from './docs';
import { httpPlumbing } from './http';
import { healthRoutes } from './modules/health/routes';
import { referenceRoutes } from './modules/reference/routes';

export function createApp(deps: AppDeps) {
  const app: Elysia = new Elysia({ name: 'pictor' });
  return app
    .use(httpPlumbing(deps, () => app.routes.map((r) => ({ method: r.method, path: r.path }))))
    .use(docs(deps))
    .use(healthRoutes(deps))
    .use(referenceRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
