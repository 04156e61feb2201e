/**
 * `/openapi.json` is a document third-party tools accept (issue #19): Redocly's linter finds no
 * error in it, and Ajv (JSON Schema 2020-12, strict mode) compiles every schema it holds. Both
 * tools are dev dependencies; the server never loads them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer, type RunningServer } from '../helpers/server';
import { compileAll, openApiAjv, schemasOf, type OpenApiDocument } from '../helpers/openapi';

const ROOT = resolve(import.meta.dir, '../..');

let server: RunningServer;
let spec: OpenApiDocument;
let dir: string;
beforeAll(async () => {
  server = await startServer();
  spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument;
  dir = await mkdtemp(join(tmpdir(), 'pictor-openapi-'));
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location?: { pointer?: string }[];
}

test('redocly lint (recommended rules) reports no error on the served document', async () => {
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(spec));
  const run = spawnSync(join(ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--format=json'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, timeout: 120_000,
  });
  const out = run.stdout.slice(run.stdout.indexOf('{'));
  const report = JSON.parse(out) as { totals: { errors: number; warnings: number }; problems: LintProblem[] };
  const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
  expect(errors).toEqual([]);
  expect(report.totals.errors).toBe(0);
}, 120_000);

test('Ajv (2020-12, strict) compiles every schema of the document', () => {
  const schemas = schemasOf(spec);
  // Every operation's parameters, bodies and responses: hundreds of schemas, not a handful.
  expect(schemas.length).toBeGreaterThan(300);
  expect(compileAll(schemas)).toEqual([]);
});

test('every example in the document is valid for its own schema (/docs "Test Request" sends them as they are)', () => {
  const ajv = openApiAjv();
  const bad: string[] = [];
  let checked = 0;
  const visit = (node: unknown, where: string): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}/${i}`));
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.examples) && ('type' in o || 'properties' in o || 'anyOf' in o)) {
      const validate = ajv.compile(o);
      for (const example of o.examples) {
        checked++;
        if (!validate(example)) bad.push(`${where}: ${JSON.stringify(example)} ${ajv.errorsText(validate.errors)}`);
      }
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'examples') visit(v, `${where}/${k}`);
  };
  for (const { where, schema } of schemasOf(spec)) visit(schema, where);
  expect(bad).toEqual([]);
  expect(checked).toBeGreaterThan(10);
});

test('every path parameter says what it holds (tools show a parameter\'s own description; it sat on the schema only)', () => {
  const missing: string[] = [];
  let seen = 0;
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = (op as { parameters?: { name: string; in: string; description?: string }[] }).parameters ?? [];
      for (const p of params.filter((x) => x.in === 'path')) {
        seen++;
        if (!p.description) missing.push(`${method.toUpperCase()} ${path} {${p.name}}`);
      }
    }
  }
  expect(seen).toBeGreaterThan(50);
  expect(missing).toEqual([]);
});

test('admin operations say that an API key needs the admin scope (a default key got 403 MISSING_SCOPE the document did not mention)', () => {
  const admin = Object.entries(spec.paths).filter(([path]) => path.startsWith('/api/admin/') || path === '/metrics')
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, (op as Record<string, unknown>)['x-required-scope']] as const));
  expect(admin.length).toBeGreaterThan(10);
  expect(admin.filter(([, scope]) => scope !== 'admin')).toEqual([]);
});

test('a JSON body whose fields are all optional is not required (an admin invite with no body answers 201; the document said required)', () => {
  const required = (path: string, method: string) => (spec.paths[path]?.[method] as { requestBody?: { required?: boolean } } | undefined)?.requestBody?.required;
  expect(required('/api/admin/users/{id}/invites', 'post')).toBe(false);
  expect(required('/api/settings', 'patch')).toBe(false);
  expect(required('/api/auth/login', 'post')).toBe(true);
});

test('headers a route reads beside its schemas are parameters (X-Share-Password, Last-Event-ID were in prose only); a form route takes a form; the event stream is text/event-stream', () => {
  type Op = { parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, unknown> }> };
  const op = (path: string, method: string) => spec.paths[path]?.[method] as Op | undefined;
  const headersOf = (path: string, method: string) => (op(path, method)?.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
  expect(headersOf('/s/{token}', 'get')).toEqual(['X-Share-Password']);
  expect(headersOf('/s/{token}', 'post')).toEqual(['X-Share-Password']);
  // The password form posts form-encoded, as the description said; the document had JSON only.
  const body = (spec.paths['/s/{token}']?.post as { requestBody?: { content?: Record<string, unknown> } }).requestBody?.content ?? {};
  expect(Object.keys(body).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
  expect(headersOf('/api/queue/events', 'get')).toEqual(['Last-Event-ID']);
  expect(Object.keys(op('/api/queue/events', 'get')?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  expect(Object.keys(op('/api/queue/events', 'get')?.responses ?? {})).toContain('429');
});

test('delivery paths name what each segment holds, list HEAD, and their 400/403 say the codes they answer', () => {
  const paths = Object.keys(spec.paths);
  // The router's positional names ({file} was a chain's second step, {id} a signature) are not the document's.
  expect(paths).toContain('/t/{step1}/{step2}/{file}');
  expect(paths).toContain('/authenticated/{signature}/{step1}/{step2}/{step3}/{step4}/{step5}/{file}');
  expect(paths).toContain('/i/{signature}/{expiry}/{file}');
  expect(paths.filter((p) => /\{s\d+\}|\/i\/\{id\}\/\{params\}/.test(p))).toEqual([]);
  const chain = spec.paths['/t/{step1}/{step2}/{file}'] as Record<string, { parameters?: { name: string; in: string }[] }>;
  expect(chain.get?.parameters?.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(['step1', 'step2', 'file']);
  const delivery = paths.filter((p) => /^\/(t|authenticated|i|d)\//.test(p));
  expect(delivery.length).toBeGreaterThan(14);
  expect(delivery.filter((p) => !(spec.paths[p] as Record<string, unknown>).head)).toEqual([]);
  const responses = (spec.paths['/t/{transformations}/{file}'] as Record<string, { responses: Record<string, { description: string }> }>).get!.responses;
  expect(responses['400']!.description).toContain('INVALID_TRANSFORMATION');
  expect(responses['403']!.description).toContain('INVALID_SIGNATURE');
  expect(responses['400']!.description).not.toContain('VALIDATION_ERROR');
});
