/**
 * `/api/auth/api-keys` (API.md §2): session-only management of scoped API keys. The clear
 * key is returned once by POST; revocation and re-scoping reach every instance at once
 * through the credential cache's bus invalidation.
 */
import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { errorResponses, forbidden, notFound } from '../../errors';
import { parseFutureTime } from '../../lib/dates';
import { authGuard, type Principal } from '../auth/guard';
import { noContent } from '../../http';
import { ApiKeySchema, CreatedKeySchema, CreateKeyBody, strict, UpdateKeyBody } from '../auth/model';
import { DEFAULT_KEY_SCOPES, type Scope } from './scopes';
import { createOwnApiKey, listApiKeys, MAX_LIVE_KEYS, revokeApiKey, toApiKeyJson, updateApiKey } from './service';

const SECURITY: Record<string, string[]>[] = [{ bearerJwt: [] }, { cookie: [] }];
const IdParams = t.Object({ id: t.String({ format: 'uuid', error: 'must be a key id' }) });

/** Only admins may hold the `admin` scope. */
function checkScopes(principal: Principal, scopes: Scope[] | undefined): void {
  if (scopes?.includes('admin') && principal.role !== 'admin') throw forbidden('Only admins can grant the admin scope.');
}

/** A key's name without surrounding spaces; blank is none (a name of spaces listed as an empty heading). */
const keyName = (name: string | null | undefined) => name?.trim() || null;

export function apiKeyRoutes(deps: AppDeps) {
  const resolver = deps.credentials;
  return new Elysia({ name: 'pictor.keys.routes', prefix: '/api/auth/api-keys', detail: { tags: ['auth'] } })
    .use(authGuard(deps))
    .post(
      '',
      async ({ principal, body, set }) => {
        checkScopes(principal, body.scopes);
        const expiresAt = body.expires_at ? parseFutureTime(body.expires_at, 'expires_at', deps.clock.now()) : null;
        const { row, key } = await createOwnApiKey(deps.db, principal.userId, {
          name: keyName(body.name), scopes: body.scopes ?? DEFAULT_KEY_SCOPES, expiresAt,
        });
        set.status = 201;
        const { last_used_at: _unused, ...shown } = toApiKeyJson(row);
        return { ...shown, key };
      },
      {
        auth: 'session',
        ...strict(CreateKeyBody),
        response: { 201: CreatedKeySchema, ...errorResponses(400, 401, 403, 409) },
        detail: {
          summary: 'Create an API key',
          description: `Without \`scopes\` the key gets every scope but \`admin\`. \`key\` is shown once. An account holds at most ${MAX_LIVE_KEYS} keys until revoked (expired ones included): 409 \`CONFLICT\` past it.`,
          security: SECURITY,
        },
      },
    )
    .get(
      '',
      async ({ principal }) => {
        const rows = await listApiKeys(deps.db, principal.userId);
        return { results: rows.map(toApiKeyJson), count: rows.length, next_cursor: null };
      },
      {
        auth: 'session',
        response: {
          200: t.Object({ results: t.Array(ApiKeySchema), count: t.Integer({ description: 'Keys listed: all of them.' }), next_cursor: t.Null({ description: 'Always null: one page holds every key.' }) }),
          ...errorResponses(401, 403),
        },
        detail: { summary: 'List API keys', description: `Every key not revoked (expired ones too), newest first, in one page: an account holds at most ${MAX_LIVE_KEYS}.`, security: SECURITY },
      },
    )
    .patch(
      '/:id',
      async ({ principal, params, body }) => {
        checkScopes(principal, body.scopes);
        const row = await updateApiKey(deps.db, principal.userId, params.id, {
          ...(body.name !== undefined ? { name: keyName(body.name) } : {}),
          ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
        });
        if (!row) throw notFound('API key');
        await resolver.invalidateKey(row.keyHash);
        return toApiKeyJson(row);
      },
      {
        auth: 'session',
        params: IdParams,
        ...strict(UpdateKeyBody),
        response: { 200: ApiKeySchema, ...errorResponses(400, 401, 403, 404) },
        detail: { summary: 'Rename or re-scope an API key', description: 'Takes effect on every instance within a second.', security: SECURITY },
      },
    )
    .delete(
      '/:id',
      async ({ principal, params }) => {
        const row = await revokeApiKey(deps.db, principal.userId, params.id, new Date(deps.clock.now()));
        if (!row) throw notFound('API key');
        await resolver.invalidateKey(row.keyHash);
        return noContent();
      },
      {
        auth: 'session',
        params: IdParams,
        response: { 204: t.Void(), ...errorResponses(400, 401, 403, 404) },
        detail: { summary: 'Revoke an API key', description: 'Refused on every instance within a second.', security: SECURITY },
      },
    );
}
