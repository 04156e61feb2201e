/**
 * The composition root builds every long-lived object per app: two apps built in one process
 * share no object (no module-level registry hands the second app the first one's cache, pool,
 * buffer or hooks), and what one app serves is seen by its own objects only.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../test/helpers/app';
import { quadrants } from '../test/helpers/images';
import { seedFile, seedUser } from '../test/helpers/seed';

/** Every object (state, not functions) reachable from `root` within `depth` property steps, with its path. */
function objectsOf(root: object, depth: number): Map<string, object> {
  const out = new Map<string, object>();
  const walk = (value: unknown, path: string, left: number) => {
    if (typeof value !== 'object' || value === null) return;
    out.set(path, value);
    if (left === 0) return;
    for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, left - 1);
  };
  walk(root, 'deps', depth);
  return out;
}

describe('composition root', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await makeTestApp();
    b = await makeTestApp();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  test('two apps built in one process share no object', () => {
    const ofA = objectsOf(a.deps, 2);
    const ofB = objectsOf(b.deps, 2);
    // The walk reaches the feature objects and their parts (caches, pools, hooks), not only the top level.
    for (const path of ['deps.delivery.cache', 'deps.delivery.pool', 'deps.delivery.lookup', 'deps.requests.observers', 'deps.requests.streamingRoutes', 'deps.traffic', 'deps.requestLogs', 'deps.credentials', 'deps.clock']) {
      expect(ofA.has(path)).toBe(true);
    }
    const bObjects = new Set(ofB.values());
    const shared = [...ofA].filter(([, v]) => bObjects.has(v)).map(([path]) => path);
    expect(shared).toEqual([]);
  });

  test("one app's requests reach its own caches and counters only", async () => {
    const owner = await seedUser(a.deps);
    const file = await seedFile(a.deps, owner.id, await quadrants(64, 64).png().toBuffer());
    for (let i = 0; i < 2; i++) expect((await a.request(`/t/w_16/${file.id}`, { headers: { accept: 'image/webp' } })).status).toBe(200);
    const served = (t: TestApp) => t.deps.traffic.lastHour().reduce((n, m) => n + m.requests, 0);
    // The routed request is counted by an after-response hook, which runs once the answer is out.
    for (let i = 0; i < 500 && served(a) < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(served(a)).toBe(2);
    expect(served(b)).toBe(0);
    expect(a.deps.delivery.cache.stats().memory.items).toBeGreaterThan(0);
    expect(b.deps.delivery.cache.stats().memory.items).toBe(0);
  });
});
