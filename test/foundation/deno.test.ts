/**
 * Deno smoke test: the same app under `Deno.serve(app.fetch)` on embedded defaults.
 * Later features extend the list of checks.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ runtime: 'deno', timeoutMs: 60_000 });
});
afterAll(() => server?.close());

test('Deno: /health, /openapi.json and the error envelope', async () => {
  const health = await fetch(`${server.url}/health`);
  expect(health.status).toBe(200);
  expect(((await health.json()) as { status: string }).status).toBe('ok');

  const spec = await fetch(`${server.url}/openapi.json`);
  expect(spec.status).toBe(200);
  expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\./);

  const missing = await fetch(`${server.url}/nope`);
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: string }).error).toBe('NOT_FOUND');
  expect(missing.headers.get('x-request-id')).toBeTruthy();

  const ready = await fetch(`${server.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(server.bootstrap?.api_key).toMatch(/^pk_/);
});

test('Deno: SIGTERM exits 0', async () => {
  expect(await server.stop('SIGTERM')).toBe(0);
});
