import { Elysia, t } from 'elysia';
import type { AppDeps } from '../../deps';
import { rateLimitsJson } from '../users/settings';
import { allowedContentTypes } from './content-types';

const ContentTypeList = t.Object({
  results: t.Array(
    t.Object({
      mime: t.String(),
      extensions: t.Array(t.String()),
      category: t.UnionEnum(['image', 'video', 'document', 'text', 'archive']),
    }),
  ),
  count: t.Integer(),
});

/** A compact description for automated clients (agents, SDK generators). */
function forAgents(deps: AppDeps, presets: { name: string; transformation: string }[]) {
  const base = deps.config.publicUrl;
  return {
    name: 'Pictor',
    version: deps.version,
    base_url: base,
    openapi_url: `${base}/openapi.json`,
    docs_url: `${base}/docs`,
    auth: {
      methods: [
        { type: 'bearer', header: 'Authorization: Bearer <access JWT or pk_… API key>' },
        { type: 'api_key', header: 'X-API-Key: <pk_… API key>' },
        { type: 'cookie', cookies: ['pictor_access', 'pictor_refresh', 'pictor_csrf'], csrf_header: 'X-CSRF-Token' },
      ],
      login: 'POST /api/auth/login',
      create_api_key: 'POST /api/auth/api-keys',
    },
    key_endpoints: [
      { method: 'POST', path: '/api/files', purpose: 'upload (multipart `file`/`image`, or raw body with X-File-Name)' },
      { method: 'GET', path: '/api/files', purpose: 'list files (cursor pagination)' },
      { method: 'GET', path: '/i/{id}', purpose: 'original bytes of a public file' },
      { method: 'GET', path: '/t/{transformations}/{id}', purpose: 'transformed image, e.g. /t/w_400,f_auto/{id}' },
      { method: 'POST', path: '/api/files/{id}/signed-url', purpose: 'signed transformation URL' },
    ],
    limits: {
      max_upload_bytes: deps.config.maxUploadBytes,
      // As the account's plan gives them (`{max, windowMs}`, the config's own shape, was the one camelCase name here).
      rate_limits: deps.config.disableRateLimit ? 'disabled' : rateLimitsJson(deps.config),
    },
    // What a sign-up form and a transformation builder (the web app at `/`) need to know.
    registration: { invite_only: deps.config.inviteOnly, email_verification_required: deps.config.requireEmailVerification },
    transformations: {
      policy: deps.config.transformPolicy,
      presets,
    },
    errors: 'Every error is {error, message, details?}; see components.schemas.Error in the OpenAPI spec.',
  };
}

export function referenceRoutes(deps: AppDeps) {
  const types = allowedContentTypes(deps.config.allowedTypes).map(({ mime, extensions, category }) => ({ mime, extensions, category }));
  const presets = [...deps.delivery.presets.values()].map((p) => ({ name: p.name, transformation: p.transformation }));
  return new Elysia({ name: 'pictor.reference', prefix: '/api/reference', detail: { tags: ['reference'] } })
    .get('/allowed-content-types', () => ({ results: types, count: types.length }), {
      response: { 200: ContentTypeList },
      detail: { summary: 'Content types accepted for upload' },
    })
    // Built per request: `base_url` follows the listening port when PUBLIC_URL is unset.
    .get('/for-agents', () => forAgents(deps, presets), {
      response: { 200: t.Record(t.String(), t.Unknown()) },
      detail: {
        summary: 'Summary for automated clients',
        description: 'Base URL, auth methods, key endpoints, limits, whether registration needs an invite code (`registration.invite_only`) and the transformation policy and presets. The web app reads it too.',
      },
    });
}
