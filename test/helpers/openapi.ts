/**
 * The served OpenAPI document as a test oracle (issue #19): its schemas compiled with Ajv
 * (JSON Schema 2020-12, strict), and a response checker that the e2e client (client.ts) runs on
 * every answer: the status must be listed for the operation, the content type declared, the JSON
 * body valid against the schema. Covered `METHOD path status` triples are appended to a file
 * (`OPENAPI_COVERAGE_FILE`, default in the temp dir) so a run can report its coverage.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MediaType {
  schema?: object;
}
export interface OperationObject {
  parameters?: { name: string; in: string; schema?: object }[];
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType>; headers?: Record<string, { schema?: object }> }>;
  security?: Record<string, string[]>[];
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, object>; securitySchemes?: Record<string, object> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** A fresh Ajv for OpenAPI 3.1 schemas: 2020-12, strict, the standard formats and the OpenAPI registry's. */
export function openApiAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // Formats of the OpenAPI format registry (annotations; a JSON value is checked by its type).
  for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(f, true);
  return ajv;
}

/** Every schema in the document with where it is: components, parameters, bodies, responses, headers. */
export function schemasOf(spec: OpenApiDocument): { where: string; schema: object }[] {
  const out: { where: string; schema: object }[] = [];
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) out.push({ where: `#/components/schemas/${name}`, schema });
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!METHODS.includes(method)) continue;
      const at = `${method.toUpperCase()} ${path}`;
      for (const p of op.parameters ?? []) if (p.schema) out.push({ where: `${at} ${p.in} parameter ${p.name}`, schema: p.schema });
      for (const [mt, m] of Object.entries(op.requestBody?.content ?? {})) if (m.schema) out.push({ where: `${at} body ${mt}`, schema: m.schema });
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        for (const [mt, m] of Object.entries(r.content ?? {})) if (m.schema) out.push({ where: `${at} ${status} ${mt}`, schema: m.schema });
        for (const [h, header] of Object.entries(r.headers ?? {})) if (header.schema) out.push({ where: `${at} ${status} header ${h}`, schema: header.schema });
      }
    }
  }
  return out;
}

/** Compiles each schema; returns `where: message` for each that Ajv refuses. */
export function compileAll(schemas: { where: string; schema: object }[]): string[] {
  const ajv = openApiAjv();
  const failures: string[] = [];
  for (const { where, schema } of schemas) {
    try {
      ajv.compile(schema);
    } catch (err) {
      failures.push(`${where}: ${(err as Error).message}`);
    }
  }
  return failures;
}

/** Does `actual` (a response's media type) match the declared `range` (`image/*`, `*\/*`, exact)? */
function mediaMatches(range: string, actual: string): boolean {
  if (range === '*/*') return true;
  if (range.endsWith('/*')) return actual.startsWith(range.slice(0, -1));
  return range === actual;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  op: OperationObject;
}

export const COVERAGE_FILE = process.env.OPENAPI_COVERAGE_FILE ?? join(tmpdir(), 'pictor-openapi-coverage.jsonl');

/** Checks answers against one server's document; `check` returns the problems found (empty: conforms). */
export class ResponseChecker {
  private readonly routes: Route[] = [];
  private readonly ajv = openApiAjv();
  private readonly validators = new Map<object, ValidateFunction>();

  constructor(readonly spec: OpenApiDocument) {
    for (const [template, ops] of Object.entries(spec.paths)) {
      const source = template.split('/').map((seg) => (/^\{.+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('/');
      for (const [method, op] of Object.entries(ops)) {
        if (!METHODS.includes(method)) continue;
        const params = (template.match(/\{/g) ?? []).length;
        this.routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}/?$`), params, op });
      }
    }
    // A literal segment wins over a parameter (`/api/files/bulk-delete` before `/api/files/{id}`).
    this.routes.sort((a, b) => a.params - b.params);
  }

  /** The documented operation answering `method path` (HEAD falls back to GET), or undefined. */
  operation(method: string, path: string): Route | undefined {
    const find = (m: string) => this.routes.find((r) => r.method === m && r.pattern.test(path));
    return find(method) ?? (method === 'HEAD' ? find('GET') : undefined);
  }

  check(method: string, url: string, status: number, contentType: string | null, bodyText: string): string[] {
    const path = new URL(url).pathname;
    const route = this.operation(method, path);
    // Routes outside the API contract (`/docs`, `/openapi.json`, web app pages) are not checked.
    if (!route) return [];
    const at = `${method} ${path} → ${status}`;
    const declared = route.op.responses?.[String(status)] ?? route.op.responses?.[`${String(status)[0]}XX`] ?? route.op.responses?.default;
    if (!declared) return [`${at}: status ${status} is not listed for ${route.method} ${route.template} (lists ${Object.keys(route.op.responses ?? {}).join(', ')})`];
    appendFileSync(COVERAGE_FILE, `${JSON.stringify(`${route.method} ${route.template} ${status}`)}\n`);
    const content = declared.content ?? {};
    if (method === 'HEAD' || bodyText === '') {
      return [];
    }
    const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const ranges = Object.keys(content);
    if (ranges.length === 0) return [`${at}: the document declares no body, got ${bodyText.length} bytes of ${mime || 'no type'}`];
    const range = ranges.find((r) => mediaMatches(r, mime));
    if (!range) return [`${at}: content type ${mime || '(none)'} is not among ${ranges.join(', ')}`];
    const schema = content[range]!.schema;
    if (!schema || !(mime === 'application/json' || mime.endsWith('+json'))) return [];
    let value: unknown;
    try {
      value = JSON.parse(bodyText);
    } catch {
      return [`${at}: body is not JSON although typed ${mime}`];
    }
    let validate = this.validators.get(schema);
    if (!validate) this.validators.set(schema, (validate = this.ajv.compile(schema)));
    if (validate(value)) return [];
    return [`${at}: body does not match the schema: ${this.ajv.errorsText(validate.errors)}; body: ${bodyText.slice(0, 300)}`];
  }
}

const checkers = new Map<string, Promise<ResponseChecker>>();

/** The checker of the server at `baseUrl`, built from its `/openapi.json` fetched once. */
export function checkerFor(baseUrl: string, fetcher: typeof fetch = originalFetch ?? fetch): Promise<ResponseChecker> {
  let c = checkers.get(baseUrl);
  if (!c) {
    c = fetcher(`${baseUrl}/openapi.json`).then(async (r) => new ResponseChecker((await r.json()) as OpenApiDocument));
    checkers.set(baseUrl, c);
  }
  return c;
}

/** Throws when the answer does not conform to the server's document (the calling test fails). */
export async function assertConforms(baseUrl: string, method: string, res: Response, bodyText: string): Promise<void> {
  const problems = (await checkerFor(baseUrl)).check(method, res.url, res.status, res.headers.get('content-type'), bodyText);
  if (problems.length) throw new Error(`Response does not match /openapi.json:\n${problems.join('\n')}`);
}

const checkedOrigins = new Set<string>();
let originalFetch: typeof fetch | undefined;

/**
 * Checks every answer `fetch` gets from the server at `baseUrl` against its document (status,
 * content type, JSON body); a mismatch rejects the `fetch`, so the calling test fails. Bodies
 * that are not JSON are not read (streams, images).
 */
export function checkAllResponses(baseUrl: string): void {
  checkedOrigins.add(new URL(baseUrl).origin);
  if (originalFetch) return;
  const plain = (originalFetch = globalThis.fetch);
  const checked = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await plain(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!checkedOrigins.has(url.origin)) return res;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const type = res.headers.get('content-type') ?? '';
    const json = /^application\/([\w.+-]*\+)?json/i.test(type);
    const text = json && method !== 'HEAD' ? await res.clone().text() : '';
    const checker = await checkerFor(url.origin, plain);
    const problems = checker.check(method, res.url || url.href, res.status, type, text);
    if (problems.length) throw new Error(`Response does not match /openapi.json:\n${problems.join('\n')}`);
    return res;
  };
  globalThis.fetch = Object.assign(checked, { preconnect: plain.preconnect }) as typeof fetch;
}
