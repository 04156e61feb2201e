/**
 * Every route's validators build cleanly: Elysia falls back, with a console warning asking to
 * report a bug, when it cannot build the mirror that copies a body its schema allows (the
 * settings body's watermark map printed "Failed to create exactMirror" at each start's first
 * PATCH). One request to each documented operation builds them all.
 */
import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../helpers/app';
import { seedUser } from '../helpers/seed';

interface Spec { paths: Record<string, Record<string, unknown>> }

describe('route validators', () => {
  let h: TestApp;
  let key: string;
  beforeAll(async () => {
    h = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true' } });
    key = (await seedUser(h.deps, { role: 'admin' })).key;
  });
  afterAll(() => h.close());

  test('one request to every operation prints no validator warning', async () => {
    const warn = spyOn(console, 'warn');
    try {
      const spec = (await (await h.request('/openapi.json')).json()) as Spec;
      let sent = 0;
      for (const [path, operations] of Object.entries(spec.paths)) {
        for (const method of Object.keys(operations)) {
          if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
          const hasBody = method !== 'get' && method !== 'delete';
          const res = await h.request(path.replace(/\{[^}]+\}/g, 'x0'), {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${key}`, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
            ...(hasBody ? { body: '{}' } : {}),
          });
          await res.body?.cancel(); // an event stream stays open otherwise
          sent++;
        }
      }
      expect(sent).toBeGreaterThan(50);
      const said = warn.mock.calls.map((args) => args.map(String).join(' ')).filter((line) => /exactMirror|report/i.test(line));
      expect(said).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  }, 120_000);
});
