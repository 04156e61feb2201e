/**
 * A known path called with a method it does not have answers 405 with `Allow`, for every route
 * the app registers (a 404 would tell the client the path does not exist). Routes registered
 * with a trailing slash (`/api/files/` inside a group) used to answer 404.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../test/helpers/app';

let h: TestApp;
beforeAll(async () => {
  h = await makeTestApp();
}, 60_000);
afterAll(() => h?.close());

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

test('PUT /api/files → 405 with Allow (the Quick start promise)', async () => {
  const res = await h.request('/api/files', { method: 'PUT' });
  expect(res.status).toBe(405);
  expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  expect(((await res.json()) as { error: string }).error).toBe('METHOD_NOT_ALLOWED');
});

test('every registered path answers a method it lacks with 405 + Allow, never "No route"', async () => {
  const routes = h.app.routes.filter((r) => METHODS.includes(r.method));
  expect(routes.length).toBeGreaterThan(30);
  let checked = 0;
  for (const route of routes) {
    // A concrete path the route matches (as a client writes it, without a trailing slash):
    // parameters and wildcards filled with placeholder segments.
    const path = route.path.replace(/:[^/]+/g, 'x').replace(/\*/g, 'a/b').replace(/(.)\/$/, '$1');
    const wrong = METHODS.filter((m) => !routes.some((r) => r.path === route.path && r.method === m));
    for (const method of wrong) {
      const res = await h.request(path, { method });
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      const where = `${method} ${path} (route ${route.method} ${route.path})`;
      expect(body.message ?? '', where).not.toStartWith('No route');
      if (res.status !== 405) continue; // another route matches this concrete path with this method
      expect(res.headers.get('allow')?.split(', '), where).toContain(route.method);
      expect(res.headers.get('allow')?.split(', '), where).not.toContain(method);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(routes.length);
}, 60_000);

test('every GET route answers HEAD alike, without a body, and the OpenAPI document says so (and names the 405)', async () => {
  const gets = h.app.routes.filter((r) => r.method === 'GET' && !r.path.includes('*'));
  let checked = 0;
  for (const route of gets) {
    const path = route.path.replace(/:[^/]+/g, 'x').replace(/(.)\/$/, '$1');
    const [get, head] = [await h.request(path), await h.request(path, { method: 'HEAD' })];
    await get.arrayBuffer();
    expect([path, head.status, (await head.arrayBuffer()).byteLength]).toEqual([path, get.status, 0]);
    checked++;
  }
  expect(checked).toBeGreaterThan(40);
  const spec = (await (await h.request('/openapi.json')).json()) as { info: { description: string }; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
  expect(spec.info.description).toContain('405 `METHOD_NOT_ALLOWED`');
  expect(spec.info.description).toContain('also answers `HEAD`');
  // The envelope the description and /api/reference/for-agents point to (it was not in the document).
  expect(Object.keys(spec.components.schemas.Error?.properties ?? {})).toEqual(['error', 'message', 'details']);
});
