/**
 * `createApp(deps)`: the root Elysia instance. Global plumbing first (request ids, bounded
 * parsing, the one error mapper), then the docs, then every feature's routes as plugins.
 * No module-level state: everything a route needs comes from `deps`.
 */
import { Elysia } from 'elysia';
import type { AppDeps } from './deps';
import { docs } from './docs';
import { httpPlumbing, refuseInvalidHost, withDefaultHost, withHeadLength } from './http';
import { authorizeFirst } from './modules/auth/guard';
import { adminRoutes } from './modules/admin/routes';
import { authPages } from './modules/auth/pages';
import { deviceRoutes } from './modules/auth/devices-routes';
import { authRoutes } from './modules/auth/routes';
import { cacheRoutes } from './modules/cache/routes';
import { deliveryRoutes } from './modules/delivery/routes';
import { embedRoutes } from './modules/embed/routes';
import { shareRoutes } from './modules/shares/routes';
import { privateDeliveryRoutes } from './modules/delivery/private';
import { fileRoutes } from './modules/files/routes';
import { folderRoutes } from './modules/folders/routes';
import { uploadRoutes } from './modules/files/uploads-routes';
import { tusRoutes } from './modules/tus/routes';
import { healthRoutes } from './modules/health/routes';
import { inviteRoutes } from './modules/invites/routes';
import { apiKeyRoutes } from './modules/keys/routes';
import { logRoutes } from './modules/logs/routes';
import { metricsRoutes } from './modules/metrics/routes';
import { publicRateLimit } from './modules/limits/plugin';
import { corsPlugin } from './modules/cors/plugin';
import { queueRoutes } from './modules/queue/routes';
import { referenceRoutes } from './modules/reference/routes';
import { createDeliveryFastPath } from './modules/transform/fast';
import { transformRoutes } from './modules/transform/routes';
import { remoteRoutes } from './modules/remote/routes';
import { webhookRoutes } from './modules/webhooks/routes';
import { fileInfoRoutes } from './modules/files/info';
import { usageRoutes } from './modules/usage/routes';
import { accountRoutes } from './modules/users/routes';
import { accountLifeRoutes } from './modules/account/routes';
import { webappRoutes } from './modules/webapp/routes';

export function createApp(deps: AppDeps) {
  // Elysia assumes a host of at least 4 characters (`http://a.bc`) and starts looking for the path
  // at character 11; with `Host: x` (a compose service name) it cut the path short, so the router
  // saw `/profile` for `/api/profile` (404) and `/api/profile` for `/zz/api/profile` (served,
  // while the limiters saw the real path). From character 7 (`http://` + one host character)
  // the router's path is the one `pathOf` (http.ts) derives. Pictor serves plain HTTP only.
  //
  // `encodeSchema: false`: Elysia's `t.Integer` carries a transform (it accepts numeric strings
  // in queries), so every response schema with an integer in it was run through TypeBox's
  // `Encode`, a deep walk of the whole body (a 50-file list page: ~10 % of its CPU). No response
  // schema here has an encode step that changes a value; the bodies are validated as before.
  const app: Elysia = new Elysia({ name: 'pictor', handler: { standardHostname: false }, encodeSchema: false });
  // Built before the plumbing: they register request-done observers, which the plumbing's one
  // global after-response hook calls.
  const metrics = metricsRoutes(deps);
  const logs = logRoutes(deps);
  return app
    .use(httpPlumbing(deps, () => app.routes, authorizeFirst(deps)))
    .use(metrics)
    .use(logs)
    // Before the public limiter: its 429s carry the CORS headers too, and preflights are not counted.
    .use(corsPlugin(deps))
    .use(publicRateLimit(deps))
    .use(docs(deps))
    .use(healthRoutes(deps))
    .use(referenceRoutes(deps))
    .use(queueRoutes(deps))
    .use(authRoutes(deps))
    .use(deviceRoutes(deps))
    .use(authPages(deps))
    .use(apiKeyRoutes(deps))
    .use(accountRoutes(deps))
    .use(accountLifeRoutes(deps))
    .use(usageRoutes(deps))
    .use(inviteRoutes(deps))
    .use(adminRoutes(deps))
    .use(fileRoutes(deps))
    .use(folderRoutes(deps))
    .use(tusRoutes(deps))
    .use(uploadRoutes(deps))
    .use(deliveryRoutes(deps))
    .use(privateDeliveryRoutes(deps))
    .use(embedRoutes(deps))
    .use(shareRoutes(deps))
    .use(transformRoutes(deps))
    .use(remoteRoutes(deps))
    .use(webhookRoutes(deps))
    .use(fileInfoRoutes(deps))
    .use(cacheRoutes(deps))
    // The web app at `/` and its deep links (after every other route: it claims only what they leave).
    .use(webappRoutes(deps));
}

export type App = ReturnType<typeof createApp>;

/** What a server runs for each request (Bun's and Deno's `fetch` handler). */
export type RequestHandler = (request: Request) => Response | Promise<Response>;

/**
 * The server's whole request handler: requests with an invalid Host refused, then the delivery
 * fast path (memory-cache hits of public `/t` URLs, answered before routing:
 * modules/transform/fast.ts), then the app's router. HEAD answers get their declared length back
 * (`headResponse`). The server (boot.ts) and the in-process test app both run this.
 */
export function createHandler(deps: AppDeps, app: App): RequestHandler {
  const fastPath = createDeliveryFastPath(deps);
  return (sent) => {
    const request = withDefaultHost(sent);
    const refused = refuseInvalidHost(request);
    if (refused) return refused;
    const fast = fastPath(request);
    if (fast) return fast;
    // Read per request, not once: Elysia composes its router on first use and on later changes.
    const response = app.fetch(request);
    return request.method === 'HEAD' ? withHeadLength(request, response) : response;
  };
}
