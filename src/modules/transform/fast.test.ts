/**
 * The delivery fast path (fast.ts) answers exactly what the routed handler answers: same status,
 * same headers (but the request id), same bytes; it counts the public bucket once per request,
 * usage bytes and metrics like the routed path, and declines everything it is not sure about.
 * A query string makes a request take the routed path, which gives the reference response.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp, type TestApp } from '../../../test/helpers/app';
import { quadrants } from '../../../test/helpers/images';
import { seedFile, seedUser, type SeededUser } from '../../../test/helpers/seed';
import { DB_BACKENDS } from '../../../test/helpers/services';
import { createDeliveryFastPath } from './fast';

const AVIF_ACCEPT = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';

/** Header map without the per-request id (and the limiter's moving `remaining`). */
function headersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'x-request-id' && k !== 'x-ratelimit-remaining') out[k] = v;
  });
  return out;
}

describe.each(DB_BACKENDS)('delivery fast path (%s)', (db) => {
  let h: TestApp;
  let owner: SeededUser;
  let photo: { id: string };
  let secret: { id: string };

  beforeAll(async () => {
    h = await makeTestApp({ db, env: { RATE_LIMIT_PUBLIC: '12/60s', JWT_SECRET: 'j'.repeat(40) } });
    owner = await seedUser(h.deps);
    photo = await seedFile(h.deps, owner.id, await quadrants(120, 90).jpeg().toBuffer(), { contentType: 'image/jpeg' });
    secret = await seedFile(h.deps, owner.id, await quadrants(40, 40).png().toBuffer(), { isPublic: false });
    await h.deps.delivery.lookup.ready;
  }, 60_000);
  afterAll(() => h.close());

  test('a memory hit: same status, headers and bytes as the routed handler; 304s too; one public count each', async () => {
    const fast = createDeliveryFastPath(h.deps);
    const url = `/t/w_50/${photo.id}`;
    const miss = new Request(`http://test.local${url}`, { headers: { accept: AVIF_ACCEPT } });
    expect(fast(miss)).toBeUndefined(); // not rendered yet: falls through
    const first = await h.request(url, { headers: { accept: AVIF_ACCEPT } }); // public count 1
    expect(first.headers.get('x-cache')).toBe('MISS');
    const bytes = Buffer.from(await first.arrayBuffer());

    const before = h.deps.usage.pendingOf(owner.id).bytesServed;
    const viaFast = await fast(new Request(`http://test.local${url}`, { headers: { accept: AVIF_ACCEPT, 'x-request-id': 'fast-1' } }))!; // 2
    const routed = await h.request(`${url}?routed`, { headers: { accept: AVIF_ACCEPT } }); // 3
    expect(viaFast.status).toBe(200);
    expect(headersOf(viaFast)).toEqual(headersOf(routed));
    expect(viaFast.headers.get('x-cache')).toBe('HIT-MEMORY');
    expect(viaFast.headers.get('vary')).toBe('Accept');
    expect(viaFast.headers.get('x-request-id')).toBe('fast-1');
    expect(viaFast.headers.get('x-ratelimit-limit')).toBe('12');
    expect(Number(viaFast.headers.get('x-ratelimit-remaining'))).toBe(Number(routed.headers.get('x-ratelimit-remaining')) + 1);
    expect(Buffer.from(await viaFast.arrayBuffer()).equals(bytes)).toBe(true);
    expect(Buffer.from(await routed.arrayBuffer()).equals(bytes)).toBe(true);
    const after = h.deps.usage.pendingOf(owner.id).bytesServed;
    expect(after - before).toBe(2 * bytes.length);

    const etag = first.headers.get('etag') as string;
    const fast304 = await fast(new Request(`http://test.local${url}`, { headers: { accept: AVIF_ACCEPT, 'if-none-match': `W/${etag}` } }))!; // 4
    const routed304 = await h.request(`${url}?routed`, { headers: { accept: AVIF_ACCEPT, 'if-none-match': `W/${etag}` } }); // 5
    expect(fast304.status).toBe(304);
    expect(headersOf(fast304)).toEqual(headersOf(routed304));

    // Through the app (what the server runs): the remaining count proves one count per request.
    const viaApp = await h.request(url, { headers: { accept: AVIF_ACCEPT } }); // 6
    expect(viaApp.headers.get('x-cache')).toBe('HIT-MEMORY');
    expect(viaApp.headers.get('x-ratelimit-remaining')).toBe('6');
    // The routed path reports after the response went out (Elysia's after-response hook runs
    // on setImmediate): one turn of the same queue lets it run, whatever the machine's load.
    await new Promise<void>((r) => setImmediate(r));
    const metric = await h.deps.metrics.http.requests.get();
    const label = metric.values.find((v) => v.labels.route === '/t/:transformations/:file' && v.labels.status === '304');
    expect(label?.value).toBe(2);
  });

  test('over the public bucket: the same 429 envelope and headers as the routed path', async () => {
    const url = `/t/w_50/${photo.id}`;
    for (let i = 0; i < 6; i++) expect((await h.request(url)).status).toBe(200); // 7..12 (a warm hit once rendered)
    const fast = await h.request(url);
    const routed = await h.request(`${url}?routed`);
    expect(fast.status).toBe(429);
    expect(fast.headers.get('retry-after')).toBeTruthy();
    // Reset and Retry-After are whole seconds from "now": the two answers, a few ms apart, may
    // straddle a second boundary (a flake seen in npm test), so those two may differ by one.
    const timed = ['x-ratelimit-reset', 'retry-after'];
    const untimed = (res: Response) => Object.fromEntries(Object.entries(headersOf(res)).filter(([k]) => !timed.includes(k)));
    expect(untimed(fast)).toEqual(untimed(routed));
    for (const k of timed) expect(Math.abs(Number(fast.headers.get(k)) - Number(routed.headers.get(k)))).toBeLessThanOrEqual(1);
    const body = (await fast.json()) as { error: string; details: { retry_after: number } };
    const routedBody = (await routed.json()) as typeof body;
    expect(Math.abs(body.details.retry_after - routedBody.details.retry_after)).toBeLessThanOrEqual(1);
    expect({ ...body, details: { ...body.details, retry_after: 0 } }).toEqual({ ...routedBody, details: { ...routedBody.details, retry_after: 0 } });
    expect(body.error).toBe('RATE_LIMITED');
  });

  test('one resolution per path and what negotiation reads from Accept, however many Accept values clients make up', () => {
    const fast = createDeliveryFastPath(h.deps);
    const resolveNow = h.deps.delivery.resolveNow;
    let resolutions = 0;
    h.deps.delivery.resolveNow = (req) => (resolutions++, resolveNow(req));
    try {
      // Each Accept used to be a memo key of its own, held in full (up to the header size limit).
      const url = `http://test.local/t/w_60/${photo.id}`;
      for (let i = 0; i < 50; i++) fast(new Request(url, { headers: { accept: `image/webp,image/*;q=0.8,x-made-up/${'a'.repeat(100 * i)}` } }));
      expect(resolutions).toBe(1);
      fast(new Request(url, { headers: { accept: 'image/png' } })); // another format class: its own memo
      fast(new Request(url, { headers: { accept: 'image/png,*/*' } }));
      expect(resolutions).toBe(2);
    } finally {
      h.deps.delivery.resolveNow = resolveNow;
    }
  });

  test('declines what only the routed path may answer', () => {
    const fast = createDeliveryFastPath(h.deps);
    const declines = (path: string, init?: RequestInit) => fast(new Request(`http://test.local${path}`, init)) === undefined;
    expect(declines(`/t/w_50/${secret.id}`)).toBe(true); // private: 404 is the router's job
    expect(declines('/t/w_50/doesnotexist')).toBe(true);
    expect(declines(`/t/w_0/${photo.id}`)).toBe(true); // invalid parameter: 400 from the router
    expect(declines(`/t/w_50/${photo.id}`, { method: 'POST' })).toBe(true);
    expect(declines(`/t/w_50/${photo.id}?v=1`)).toBe(true);
    expect(declines(`/t/w_50/extra/${photo.id}`)).toBe(true);
    expect(declines('/health')).toBe(true);
  });
});
