/**
 * The fuzz test's view of the served `/openapi.json`: every operation with its path
 * parameters, query parameters, JSON body schema and whether it takes credentials. Derived at
 * run time, so a route added later is fuzzed without touching the test.
 */

/** The subset of JSON Schema (as TypeBox emits it) the value generators read. */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  examples?: unknown[];
}

export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/api/files/{id}`. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema }[];
  body?: Schema;
  /** Accepts credentials (has a `security` requirement). */
  secured: boolean;
  /** Streams its own body (no JSON schema): the upload routes. */
  upload: boolean;
  /** Statuses documented with a body that is not JSON (the HTML pages, alone or beside the envelope), by status: those media types. */
  nonJsonStatuses: Record<string, string[]>;
}

interface SpecDoc {
  paths: Record<string, Record<string, {
    parameters?: { name: string; in: string; schema?: Schema }[];
    requestBody?: { content?: Record<string, { schema?: Schema }> };
    security?: unknown[];
    responses?: Record<string, { content?: Record<string, unknown> }>;
  }>>;
}

export async function loadOperations(baseUrl: string): Promise<Operation[]> {
  const res = await fetch(`${baseUrl}/openapi.json`);
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  const spec = (await res.json()) as SpecDoc;
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      const isWrite = method === 'post' || method === 'put' || method === 'patch';
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
        body,
        secured: (op.security?.length ?? 0) > 0,
        // A write route that declares no JSON body may read its own (multipart or raw bytes; uploads
        // declare `multipart/form-data`): it gets more of those bodies. Every write route gets every kind of body anyway.
        upload: isWrite && (!op.requestBody || op.requestBody.content?.['multipart/form-data'] !== undefined),
        nonJsonStatuses: Object.fromEntries(Object.entries(op.responses ?? {})
          .map(([status, r]) => [status, Object.keys(r.content ?? {}).filter((t) => t !== 'application/json')] as const)
          .filter(([, types]) => types.length > 0)),
      });
    }
  }
  return ops;
}
