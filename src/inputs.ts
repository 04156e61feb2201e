/**
 * Nothing a client sends is silently ignored (issue #26): a query parameter or a top-level JSON
 * body field that the route does not declare is refused with a 400 naming it, and the closest
 * declared name (`isPublic` → "did you mean is_public?"). One check for every route, driven by
 * each route's own `query` / `body` schema, run by the global transform hook in http.ts
 * (before validation, authentication and any handler work).
 *
 * Exception: public delivery (`/i`, `/d`, `/t`, `/authenticated`) ignores query strings, as
 * imgproxy and Cloudinary do, because CDNs, browsers and caches append cache-busters (`?v=123`)
 * to image URLs. So do the shared pages (`/v` embed pages, `/s` share links): chat apps, mail
 * clients and link trackers append `?utm_source=…` to links people paste.
 */
import { AppError, ruleOf, unknownInputs, validationError } from './errors';

/** What the check reads of a registered route (a structural subset of Elysia's `InternalRoute`). */
export interface RouteShape {
  method: string;
  path: string;
  hooks?: { query?: unknown; body?: unknown };
}

/** Route prefixes whose query string is ignored rather than refused (see the module comment). */
const ANY_QUERY_PREFIXES = ['/i/', '/d/', '/t/', '/authenticated/', '/v/', '/s/'];

/** Declared names, or null when the route takes any (no closed object schema to compare with). */
type Known = readonly string[] | null;

interface RouteInputs {
  query: Known;
  body: Known;
  /** Query parameters that take several values (array schemas, such as `tag`); any other given twice is refused. */
  repeatable: ReadonlySet<string>;
  /** Top-level JSON body fields that hold a number, with their schema (for the rule in words). */
  numbers: ReadonlyMap<string, unknown>;
  /** Query parameters that hold a number, with their schema. */
  queryNumbers: ReadonlyMap<string, unknown>;
}

/** A number as a person writes one in a URL: digits, an optional minus and decimal part. */
const DECIMAL = /^-?\d+(\.\d+)?$/;

type SchemaNode = { type?: string; format?: string; anyOf?: SchemaNode[] };

/**
 * Whether a field's schema is a number. Elysia's `t.Integer`/`t.Number` also take a numeric
 * string and convert it, which in a JSON body let `"0x100"` through as 256 and `"1e3"` as 1000.
 */
function isNumber(schema: SchemaNode | undefined): boolean {
  if (!schema) return false;
  if (schema.type === 'integer' || schema.type === 'number') return true;
  if (!schema.anyOf) return false;
  const plainText = schema.anyOf.some((b) => b.type === 'string' && b.format !== 'integer' && b.format !== 'numeric');
  return !plainText && schema.anyOf.some((b) => isNumber(b));
}

function numbersOf(schema: unknown): Map<string, unknown> {
  const props = (schema as { properties?: Record<string, SchemaNode> } | undefined)?.properties ?? {};
  return new Map(Object.entries(props).filter(([, p]) => isNumber(p)));
}

/** The property names of a closed object schema; null for anything open or not an object schema. */
function namesOf(schema: unknown): Known {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; additionalProperties?: unknown };
  if (s.type !== 'object' || !s.properties) return null;
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) return null;
  return Object.keys(s.properties);
}

/**
 * The properties of an object schema that take several values: arrays, and strings marked
 * `x-repeatable` (read from the URL with `getAll` by their route, such as an upload's `tags`).
 */
function arraysOf(schema: unknown): Set<string> {
  const props = (schema as { properties?: Record<string, { type?: string; anyOf?: { type?: string }[]; 'x-repeatable'?: boolean }> } | undefined)?.properties ?? {};
  return new Set(Object.entries(props)
    .filter(([, p]) => p.type === 'array' || p.anyOf?.some((b) => b.type === 'array') || p['x-repeatable'] === true).map(([k]) => k));
}

function inputsOf(route: RouteShape): RouteInputs {
  const open = ANY_QUERY_PREFIXES.some((p) => route.path.startsWith(p));
  const query = route.hooks?.query;
  return {
    repeatable: arraysOf(query),
    numbers: numbersOf(route.hooks?.body),
    queryNumbers: numbersOf(query),
    // No query schema: the route takes no query parameters at all.
    query: open ? null : query === undefined ? [] : namesOf(query),
    // No body schema: the route takes no body fields (an empty `{}` is still fine).
    body: route.hooks?.body === undefined ? [] : namesOf(route.hooks.body),
  };
}

/**
 * Builds the check. `routesOf` is read lazily on the first request, so it sees every route
 * registered after the plumbing. Throws the 400 `unknownInputs` error; returns nothing otherwise.
 */
export function inputCheck(routesOf: () => RouteShape[]) {
  let table: Map<string, RouteInputs> | null = null;
  const build = () => {
    const m = new Map<string, RouteInputs>();
    for (const r of routesOf()) m.set(`${r.method.toUpperCase()} ${r.path}`, inputsOf(r));
    return m;
  };
  /** Whether the route takes `name` as a number in its query (to name a failing one: errors.ts `fromValidation`). */
  const isQueryNumber = (method: string, route: string, name: string): boolean => {
    table ??= build();
    return (table.get(`${method} ${route}`) ?? (method === 'HEAD' ? table.get(`GET ${route}`) : undefined))?.queryNumbers.has(name) ?? false;
  };
  return Object.assign((request: Request, route: string, body: unknown): void => {
    // A CORS preflight carries the query of the request it asks about, not its own.
    if (request.method === 'OPTIONS') return;
    const q = request.url.indexOf('?');
    const hasQuery = q >= 0 && q < request.url.length - 1;
    const hasBody = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (!hasQuery && !hasBody) return;
    table ??= build();
    // HEAD is answered by the GET route of the same path.
    const inputs = table.get(`${request.method} ${route}`) ?? (request.method === 'HEAD' ? table.get(`GET ${route}`) : undefined);
    if (!inputs) return;
    if (hasQuery && inputs.query) {
      const known = inputs.query;
      const params = new URLSearchParams(request.url.slice(q + 1));
      const names = [...params.keys()];
      const unknown = [...new Set(names)].filter((n) => !known.includes(n));
      if (unknown.length) throw unknownInputs('query parameter', unknown, known);
      // Given twice, a one-value parameter kept its last value without a word (`status=failed&status=pending`).
      // One pass with a set: a hostile URL of thousands of parameters costs no n² scan.
      const seen = new Set<string>();
      const twice = names.find((n) => (seen.has(n) ? !inputs.repeatable.has(n) : (seen.add(n), false)));
      if (twice !== undefined) {
        throw validationError(`The query parameter ${twice} takes one value; it was given more than once.`, [{ path: `/${twice}`, message: 'given more than once' }]);
      }
    }
    // A number in the query is written in decimal: the conversion took `0x10` as 16, `1e1` as 10, `+2` and ` 2` as 2.
    if (hasQuery && inputs.queryNumbers.size > 0) {
      const params = new URLSearchParams(request.url.slice(q + 1));
      for (const [name, schema] of inputs.queryNumbers) {
        const value = params.get(name);
        // Only text the conversion would take as a number; other text fails validation with every other bad field.
        if (value === null || value.trim() === '' || DECIMAL.test(value) || !Number.isFinite(Number(value))) continue;
        const rule = ruleOf(schema) ?? 'must be a number';
        throw new AppError('VALIDATION_ERROR', 400, `Invalid query: /${name} ${rule}, written in decimal digits; got ${JSON.stringify(value.slice(0, 32))}`, {
          fields: [{ path: `/${name}`, message: `${rule}, written in decimal digits`, in: 'query' }],
        });
      }
    }
    if (hasBody && inputs.body) {
      const known = inputs.body;
      const unknown = Object.keys(body).filter((n) => !known.includes(n));
      if (unknown.length) throw unknownInputs('body field', unknown, known);
    }
    // A JSON number field takes a JSON number (a form's fields are all text, and converted).
    if (hasBody && inputs.numbers.size > 0 && /json/i.test(request.headers.get('content-type') ?? '')) {
      for (const [name, schema] of inputs.numbers) {
        const value = (body as Record<string, unknown>)[name];
        // Only text that would pass as a number: other text fails validation with every other bad field.
        if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(Number(value))) continue;
        const rule = ruleOf(schema) ?? 'must be a number';
        throw new AppError('VALIDATION_ERROR', 400, `Invalid body: /${name} ${rule}; got the text ${JSON.stringify(value.slice(0, 32))}, not a JSON number`, {
          fields: [{ path: `/${name}`, message: rule, in: 'body' }],
        });
      }
    }
  }, { isQueryNumber });
}
