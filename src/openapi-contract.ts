/**
 * Turns what @elysiajs/openapi generates from the route schemas into a valid OpenAPI 3.1
 * document (JSON Schema 2020-12) that third-party tools accept (issue #19). Everything here is
 * derived from the routes (their schemas, `security`, bodies); nothing lists routes by hand.
 *
 * - Elysia's coercing types (`t.Integer`, `t.Numeric`, `t.BooleanString`…) come out as
 *   `anyOf: [{type: string, format: integer}, {type: integer}]`: the wire type is kept, the
 *   string branch (a server-side coercion detail with a non-existent format) dropped.
 * - `nullable` (OAS 3.0) is dropped: the schemas already carry `type: [x, 'null']` / `anyOf`.
 * - Elysia's `error` keyword (custom validation messages) is not JSON Schema.
 * - Public operations get `security: []`; state-changing cookie access needs the CSRF header.
 * - Statuses every route of a kind can answer are listed (400, 500 and 503 everywhere, 413/415 on JSON
 *   bodies, 401/403/429 behind the auth guard, 429 on public delivery) with the error envelope.
 * - Binary responses declared with `binaryResponse` get their real media types.
 * - Upper-case error codes in descriptions are put in code spans, so Markdown does not read
 *   `MISSING_SCOPE, CSRF_INVALID` as emphasis (`MISSING  SCOPE`).
 */
import { t, type TSchema } from 'elysia';
import { errorResponses } from './errors';

/** The `security` requirement of an authenticated route: any one of the schemes (docs.ts `SECURITY_SCHEMES`). */
export const AUTHENTICATED = [{ bearerJwt: [] }, { bearerApiKey: [] }, { apiKeyHeader: [] }, { cookie: [] }];

/** The marker `binaryResponse` leaves for `normalizeSpec`; removed from the served document. */
const MEDIA_KEY = 'x-pictor-media-types';

/**
 * A response with a non-JSON body of the given media types (`[]`: no body, e.g. 304). Declared
 * in a route's `response` map like any schema.
 */
export const binaryResponse = (description: string, mediaTypes: readonly string[]): TSchema =>
  t.Any({ description, [MEDIA_KEY]: [...mediaTypes] });

/** The marker `errorResponsesOrPage` leaves for `normalizeSpec`; removed from the served document. */
const ALSO_HTML_KEY = 'x-pictor-also-html';

/**
 * `errorResponses` that a browser gets as an HTML page instead (`Accept` naming `text/html`):
 * the answers of a link a person opens, such as a share link.
 */
export function errorResponsesOrPage(...statuses: number[]): Record<number, TSchema> {
  const out = errorResponses(...statuses);
  for (const s of statuses) {
    const json = out[s]!;
    out[s] = { ...json, description: `${json.description ?? ''} An HTML page naming the problem when the request accepts \`text/html\`.`, [ALSO_HTML_KEY]: true };
  }
  return out;
}

/** Formats of JSON Schema 2020-12 and the OpenAPI format registry; any other is dropped. */
const KNOWN_FORMATS = new Set([
  'date-time', 'date', 'time', 'duration', 'email', 'idn-email', 'hostname', 'idn-hostname', 'ipv4', 'ipv6', 'uri',
  'uri-reference', 'iri', 'iri-reference', 'uuid', 'uri-template', 'json-pointer', 'relative-json-pointer', 'regex',
  'int32', 'int64', 'float', 'double', 'byte', 'binary', 'password',
]);
/** Formats Elysia uses to mark a string branch that it coerces to the other branch's type. */
const COERCION_FORMATS = new Set(['integer', 'numeric', 'boolean', 'ObjectString', 'ArrayString', 'date']);

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Normalises one schema in place (and every schema inside it). */
export function normalizeSchema(schema: unknown): void {
  if (!isObj(schema)) return;
  delete schema.nullable;
  delete schema.error;
  delete schema['x-repeatable']; // for the input check (inputs.ts); the description says it in words
  if (typeof schema.description === 'string') schema.description = codeSpans(schema.description);
  if (typeof schema.format === 'string' && !KNOWN_FORMATS.has(schema.format)) delete schema.format;
  // t.Record → `patternProperties: {'^(.*)$': {}}`: the same as additionalProperties.
  const pp = schema.patternProperties;
  if (isObj(pp) && Object.keys(pp).length === 1 && '^(.*)$' in pp) {
    schema.additionalProperties = pp['^(.*)$'];
    delete schema.patternProperties;
  }
  for (const key of ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach(normalizeSchema);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'contains'] as const) normalizeSchema(schema[key]);
  for (const key of ['properties', 'patternProperties', '$defs'] as const) {
    const map = schema[key];
    if (isObj(map)) Object.values(map).forEach(normalizeSchema);
  }
  collapseCoercion(schema);
}

/** `anyOf: [{type: string, format: integer}, X]` → X merged into the parent. */
function collapseCoercion(schema: Json): void {
  const list = schema.anyOf;
  if (!Array.isArray(list)) return;
  const kept = list.filter((b) => !(isObj(b) && b.type === 'string' && typeof b.format === 'string' && COERCION_FORMATS.has(b.format)));
  // The format was dropped already when unknown; recognise the coercion branch by its `default` too.
  const kept2 = kept.filter((b) => !(isObj(b) && b.type === 'string' && b.format === undefined && b.default === 0 && list.length === 2));
  if (kept2.length === list.length) return;
  if (kept2.length === 1 && isObj(kept2[0])) {
    delete schema.anyOf;
    const { description: _d, ...rest } = kept2[0];
    for (const [k, v] of Object.entries(rest)) if (!(k in schema)) schema[k] = v;
  } else schema.anyOf = kept2;
}

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content?: Record<string, { schema?: unknown }>; description?: string; required?: boolean };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }>; headers?: Record<string, { schema?: unknown }> }>;
  parameters?: { name: string; in: string; schema?: unknown; description?: string }[];
  description?: string;
  summary?: string;
  'x-required-scope'?: string;
  /** Path parameter names as the document shows them (`renamePathParams`): the router's are positional. */
  'x-path-names'?: Record<string, string>;
  /**
   * Parameters the route reads itself (a header beside its query schema): the plugin replaces a
   * route's `parameters` with those of its schemas, so they come in under this name and are added.
   */
  'x-headers'?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[];
}

interface Document {
  info?: { description?: string };
  tags?: { description?: string }[];
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
}

const PUBLIC_DELIVERY = ['/i/', '/d/', '/t/', '/authenticated/'];
const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** An error response object (the envelope) for `status`, as plain JSON. */
function errorResponse(status: number) {
  const schema = JSON.parse(JSON.stringify(errorResponses(status)[status])) as Json;
  normalizeSchema(schema);
  return { description: String(schema.description), content: { 'application/json': { schema } } };
}

/** Puts bare upper-case codes (`MISSING_SCOPE`) in code spans, leaving existing spans alone. */
export function codeSpans(text: string): string {
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g, (m) => `\`${m}\``)))
    .join('`');
}

/**
 * Elysia concatenates a route's own `detail.security` (session-only routes) with the auth guard's
 * (any credential): the route's narrower list is the real one.
 */
function ownSecurity(security: Record<string, string[]>[]): Record<string, string[]>[] {
  const guard = AUTHENTICATED.map((r) => JSON.stringify(r));
  const tail = security.slice(-guard.length).map((r) => JSON.stringify(r));
  const endsWithGuard = security.length > guard.length && tail.every((r, i) => r === guard[i]);
  return endsWithGuard ? security.slice(0, -guard.length) : security;
}

/**
 * What a path parameter holds, for routes whose schema does not say: by name, and for `{id}` by
 * the collection it names. Every path parameter of the document carries a description.
 */
const ID_OF: [RegExp, string][] = [
  [/^\/(i|d)\/\{id\}$/, 'File id, optionally with its extension (`abc123XyZ9.jpg`).'],
  [/^\/(api\/files|api\/admin\/files|api\/cache|v)\//, 'File id.'],
  [/^\/api\/queue\/jobs\//, 'Job id.'],
  [/^\/api\/auth\/sessions\//, 'Session id, from `GET /api/auth/sessions`.'],
  [/^\/api\/auth\/api-keys\//, 'API key id (not the key itself).'],
  [/^\/api\/account\/exports\//, 'Export id.'],
  [/^\/api\/account\/deletions\//, 'Deletion request id.'],
  [/^\/api\/admin\/users\//, 'User id.'],
  [/^\/api\/uploads\/tus\//, 'Upload id: the last segment of the creation\'s `Location`.'],
  [/^\/api\/webhooks\//, 'Webhook endpoint id.'],
];
const PARAM_DOCS: Record<string, string> = {
  token: 'The presigned upload\'s token: the last segment of its URL.',
  share_id: 'Share link id (from the file\'s list of share links).',
  transformations: 'Comma-separated `key_value` parameters (TRANSFORMS.md), e.g. `w_400,f_webp`.',
};
function defaultParamDoc(path: string, name: string): string | undefined {
  if (name === 'id') return ID_OF.find(([re]) => re.test(path))?.[1];
  return PARAM_DOCS[name];
}

/** Routes for administrators: their role, and for an API key the `admin` scope (checked in their handlers, not by the guard's scope). */
const ADMIN_ONLY = (path: string) => path.startsWith('/api/admin/') || path === '/metrics';

function normalizeOperation(path: string, method: string, op: Operation): void {
  if (ADMIN_ONLY(path) && !op['x-required-scope']) {
    op['x-required-scope'] = 'admin';
    op.description = `${op.description ? `${op.description} ` : ''}Administrators only: an API key needs the \`admin\` scope (keys get it only when asked for).`;
  }
  if (op.description) op.description = codeSpans(op.description);
  // Public unless the route declared a requirement (the auth guard and session-only routes do).
  if (!op.security) op.security = [];
  op.security = ownSecurity(op.security);
  if (MUTATING.has(method)) {
    op.security = op.security.map((req) => ('cookie' in req ? { ...req, csrfHeader: [] } : req));
  }
  const responses = (op.responses ??= {});
  const add = (status: number) => {
    if (!responses[status]) responses[status] = errorResponse(status);
  };
  const body = op.requestBody?.content ?? {};
  const delivery = PUBLIC_DELIVERY.some((p) => path.startsWith(p));
  // Any route: a NUL byte in the path or query (src/hardening.ts), and outside public delivery
  // any query parameter a route does not declare (src/inputs.ts), is a 400.
  add(400);
  if (body['application/json']) [400, 413, 415].forEach(add);
  if (op.security.length) [401, 403, 429].forEach(add);
  if (delivery) add(429);
  add(500);
  // Any route may need the file storage or the database (uploads, originals, renders, lists):
  // one that cannot be reached is a 503 (STORAGE_UNAVAILABLE, DATABASE_UNAVAILABLE), not a 500.
  add(503);
  for (const response of Object.values(responses)) {
    if (response.description) response.description = codeSpans(response.description);
    for (const media of Object.values(response.content ?? {})) media.schema = normalized(media.schema);
    for (const header of Object.values(response.headers ?? {})) header.schema = normalized(header.schema);
    const schema = response.content?.['application/json']?.schema;
    if (isObj(schema) && schema[ALSO_HTML_KEY] === true && response.content) {
      delete schema[ALSO_HTML_KEY];
      response.content['text/html'] = { schema: { type: 'string' } };
    }
    if (isObj(schema) && Array.isArray(schema[MEDIA_KEY])) {
      const types = schema[MEDIA_KEY] as string[];
      if (types.length === 0) delete response.content;
      else response.content = Object.fromEntries(types.map((mt) => [mt, { schema: { type: 'string', format: 'binary' } }]));
    }
  }
  for (const media of Object.values(body)) media.schema = normalized(media.schema);
  // A JSON body whose fields are all optional may be left out (the server reads none as `{}`):
  // the document said `required: true` for those too.
  const json = body['application/json']?.schema;
  if (op.requestBody && Object.keys(body).length === 1 && isObj(json) && json.type === 'object' && !(Array.isArray(json.required) && json.required.length > 0)) {
    op.requestBody.required = false;
  }
  for (const extra of op['x-headers'] ?? []) {
    if (!(op.parameters ?? []).some((p) => p.in === extra.in && p.name.toLowerCase() === extra.name.toLowerCase())) (op.parameters ??= []).push(extra);
  }
  delete op['x-headers'];
  for (const p of op.parameters ?? []) {
    p.schema = normalized(p.schema);
    // The route schemas describe a parameter on its schema; tools (Scalar, generated clients) show the parameter's own.
    const own = isObj(p.schema) && typeof p.schema.description === 'string' ? p.schema.description : undefined;
    if (!p.description) p.description = own ?? (p.in === 'path' ? defaultParamDoc(path, p.name) : undefined);
    if (p.description) p.description = codeSpans(p.description);
  }
  // A raw-body upload names its file in a header.
  if (body['application/octet-stream'] && !(op.parameters ?? []).some((p) => p.in === 'header' && p.name.toLowerCase() === 'x-file-name')) {
    (op.parameters ??= []).push({
      name: 'X-File-Name',
      in: 'header',
      description: "File name of a raw-body upload: a non-ASCII name percent-encoded, as RFC 5987 `UTF-8''%E2%82%AC.png`, or as raw UTF-8; over 1024 characters is a 400. A stored name is cut to 255 characters, its extension kept.",
      schema: { type: 'string', maxLength: 1024 },
    });
  }
}

/**
 * The router wants one parameter name per path position across routes, so a chain's
 * `/t/{transformations}/{file}/{s3}` holds its second step in `file` and the file in `s3`, and a
 * signed original's `/i/{id}/…` its signature in `id`. A route's `x-path-names` (old → new, all
 * at once) gives the document the names that say what each segment holds; generated clients
 * take them from here.
 */
function renamePathParams(path: string, ops: Record<string, Operation>): string {
  const names = Object.values(ops).find((op) => op['x-path-names'])?.['x-path-names'];
  if (!names) return path;
  for (const op of Object.values(ops)) {
    delete op['x-path-names'];
    for (const p of op.parameters ?? []) if (p.in === 'path' && names[p.name]) p.name = names[p.name] as string;
  }
  return path.replace(/\{(\w+)\}/g, (whole, name: string) => (names[name] ? `{${names[name]}}` : whole));
}

/**
 * A normalised copy: the generated document may hold the very schema objects the routes validate
 * with (a body schema, TypeBox's `error` messages), which must not change.
 */
function normalized(schema: unknown): unknown {
  if (schema === undefined) return schema;
  const copy = JSON.parse(JSON.stringify(schema)) as unknown;
  normalizeSchema(copy);
  return copy;
}

const done = new WeakSet<object>();

/** Normalises the generated document in place; runs once per document object (the plugin caches it). */
export function normalizeSpec(spec: unknown): void {
  if (!isObj(spec) || done.has(spec)) return;
  done.add(spec);
  const doc = spec as Document;
  if (doc.info?.description) doc.info.description = codeSpans(doc.info.description);
  for (const tag of doc.tags ?? []) if (tag.description) tag.description = codeSpans(tag.description);
  const schemas = doc.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) schemas[name] = normalized(schema);
  const paths: NonNullable<Document['paths']> = {};
  for (const [routerPath, ops] of Object.entries(doc.paths ?? {})) {
    const path = renamePathParams(routerPath, ops);
    for (const [method, op] of Object.entries(ops)) normalizeOperation(path, method, op);
    // A group's own route is registered as `/api/files/`; both forms are served, the document
    // lists the one without the trailing slash (OpenAPI tools treat them as different paths).
    const bare = path.replace(/(.)\/$/, '$1');
    paths[bare] = { ...paths[bare], ...ops };
  }
  doc.paths = paths;
}
