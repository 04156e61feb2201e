/**
 * The route guard every authenticated route uses:
 *
 *   new Elysia().use(authGuard(deps)).get('/api/files', ({ principal }) => …, { auth: 'files:read' })
 *
 * `auth: true` requires any credential; `auth: '<scope>'` also requires that scope (403
 * `MISSING_SCOPE` with `details.required`). The resolved `principal` says who is calling.
 *
 * Credentials are resolved by `credentials.ts` (API keys, access JWTs, cookies + CSRF; bans
 * → 403 `ACCOUNT_BANNED`), warm from in-memory caches that every instance invalidates over the bus.
 */
import { Elysia } from 'elysia';
import type { AppDeps } from '../../deps';
import { AppError, forbidden, missingScope } from '../../errors';
import { ACCESS_COOKIE, readCookie } from './cookies';
import type { Scope } from '../keys/scopes';
import { enforceApiLimit } from '../limits/plugin';
import { keepSocketAddress } from '../../platform/server';

export interface Principal {
  userId: string;
  email: string;
  role: 'user' | 'admin';
  isPromoted: boolean;
  scopes: ReadonlySet<Scope>;
  /** How the caller authenticated. */
  via: 'jwt' | 'cookie' | 'api_key';
  apiKeyId?: string;
  apiKeyPrefix?: string;
  /** The session (refresh-token family) of a JWT or cookie caller. */
  sessionId?: string;
}

/** `true`: any caller; a scope: a caller holding it; `'session'`: a signed-in person (a token or the cookie), never an API key. */
export type AuthRequirement = true | Scope | 'session';

/** Session-only routes: an API key may not manage credentials (403 FORBIDDEN). */
export function requireSession(principal: Principal): void {
  if (principal.via === 'api_key') throw forbidden('API keys cannot do this; sign in with a session.');
}

/**
 * Whether the caller may act on other accounts' things (their files, exports, jobs): an admin
 * calling with the `admin` scope. An admin's narrower key (`transform:sign`, `account:read`…)
 * acts as a user: its own things only.
 */
export const actsAsAdmin = (p: Pick<Principal, 'role' | 'scopes'>): boolean => p.role === 'admin' && p.scopes.has('admin');

/** Throws 403 MISSING_SCOPE unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) throw missingScope(scope);
}

/**
 * `auth: 'admin'`: an administrator (403 FORBIDDEN for anyone else, who holds no such scope to
 * lack), calling with the `admin` scope (403 MISSING_SCOPE for an admin's narrower key).
 */
function requireAdmin(principal: Principal): void {
  if (principal.role !== 'admin') throw new AppError('FORBIDDEN', 403, 'Administrators only.');
  requireScope(principal, 'admin');
}

/** Whether a request carries a credential at all (valid or not): a key, a bearer token or the session cookie. */
export const carriesCredential = (request: Request): boolean =>
  request.headers.has('authorization') || request.headers.has('x-api-key') || readCookie(request, ACCESS_COOKIE) !== null;

/**
 * The 401 of a request the guard could not attribute, saying whether it sent credentials at all
 * (an unknown, revoked or expired key or token read "Authentication required." like none), with
 * the `WWW-Authenticate` challenge a 401 must carry (RFC 9110 §11.6.1).
 */
export function notAuthenticated(request: Request): AppError {
  return carriesCredential(request)
    ? new AppError('UNAUTHORIZED', 401, 'The credentials sent are not valid: the API key or token is unknown, revoked or expired (a session renews through POST /api/auth/refresh).',
      undefined, { 'WWW-Authenticate': 'Bearer realm="Pictor", error="invalid_token"' })
    : new AppError('UNAUTHORIZED', 401, 'Authentication required: send an API key (X-API-Key or Authorization: Bearer), a bearer token, or the session cookie.',
      undefined, { 'WWW-Authenticate': 'Bearer realm="Pictor"' });
}

/** Who made each authenticated request, for hooks that run outside the route (request logs, usage). */
const callers = new WeakMap<Request, Principal>();

/** The principal the guard resolved for this request, if any (set before limits and scope checks). */
export const principalOf = (request: Request): Principal | undefined => callers.get(request);

/** Each guarded route's transform, with what it asks: how `guardOfRoute` knows a route from its hooks. */
const guardTransforms = new WeakMap<object, AuthRequirement>();

export function authGuard(deps: AppDeps) {
  const resolver = deps.credentials;
  return new Elysia({ name: 'pictor.auth.guard' }).macro({
    auth: (requirement: AuthRequirement) => {
      // Before validation (Elysia's transform stage): who calls, and whether they may, is answered
      // before what they sent is checked. A caller without credentials got the route's rules in a
      // 400, and a non-admin an admin route's, before the 401/403.
      const transform = async ({ request, path, set }: { request: Request; path: string; set: { headers: Record<string, unknown> } }) => {
        const principal = await resolver.resolve(request);
        if (!principal) throw notAuthenticated(request);
        callers.set(request, principal);
        // Request logs read the client address after the response, when Bun no longer knows the peer.
        keepSocketAddress(request);
        await enforceApiLimit(deps, path, set, principal);
        authorize(principal, requirement);
      };
      guardTransforms.set(transform, requirement);
      const detail: { security: Record<string, string[]>[]; 'x-required-scope'?: Scope } = requirement === 'session'
        ? { security: [{ bearerJwt: [] }, { cookie: [] }] }
        : {
          security: [{ bearerJwt: [] }, { bearerApiKey: [] }, { apiKeyHeader: [] }, { cookie: [] }],
          ...(requirement === true ? {} : { 'x-required-scope': requirement }),
        };
      return {
        detail,
        transform,
        resolve({ request }: { request: Request }) {
          // Set by transform above, which ran for this request or threw.
          return { principal: callers.get(request) as Principal };
        },
      };
    },
  });
}

function authorize(principal: Principal, requirement: AuthRequirement): void {
  if (requirement === 'admin') requireAdmin(principal);
  else if (requirement === 'session') requireSession(principal);
  else if (requirement !== true) requireScope(principal, requirement);
}

/** What the guard asks of a route's callers, read from the route's hooks; null for a route it does not guard. */
export function guardOfRoute(hooks: unknown): AuthRequirement | null {
  const transforms = (hooks as { transform?: unknown } | undefined)?.transform;
  for (const h of Array.isArray(transforms) ? transforms : []) {
    const fn = typeof h === 'function' ? h : (h as { fn?: unknown } | null)?.fn;
    const requirement = typeof fn === 'function' ? guardTransforms.get(fn) : undefined;
    if (requirement !== undefined) return requirement;
  }
  return null;
}

/**
 * For input refused before the guard runs (an unknown parameter or field, a body of the wrong
 * type or not JSON): who calls, and whether they may, is answered first, as the guard does, so
 * a caller without credentials, or a non-admin at an admin route, never reads the route's rules.
 */
export function authorizeFirst(deps: AppDeps) {
  return async (request: Request, routeHooks: unknown): Promise<void> => {
    const requirement = guardOfRoute(routeHooks);
    if (requirement === null) return;
    const principal = await deps.credentials.resolve(request);
    if (!principal) throw notAuthenticated(request);
    authorize(principal, requirement);
  };
}
