/**
 * Issue #24 over real HTTP: Client Hints (`w_auto`, `dpr_auto`) give the right sizes per
 * `Sec-CH-DPR`/`Sec-CH-Width`, list the hint headers in `Vary`, ask for them with `Accept-CH`,
 * and make no more cached variants than the rounding steps allow — through the routed handler
 * and the delivery fast path; chained transformations (`/t/<step>/<step>/<id>`) render, cache
 * by their canonical form and sign as a whole; `d_<id>` answers a missing file with the default.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { animation, quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';
import { createTestDatabase, type TestDatabase } from '../helpers/services';

let pg: TestDatabase;
let srv: RunningServer;
let key: string;
let id: string;

const upload = async (bytes: Buffer, type: string, query = ''): Promise<string> => {
  const res = await fetch(`${srv.url}/api/files${query}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': type },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
};

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${srv.url}${path}`, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  const meta = res.status === 200 ? await sharp(body).metadata() : undefined;
  return { res, status: res.status, meta, xCache: res.headers.get('x-cache') };
}

beforeAll(async () => {
  pg = await createTestDatabase();
  srv = await startServer({ env: { DATABASE_URL: pg.url, DISABLE_RATE_LIMIT: 'true' } });
  key = srv.bootstrap?.api_key as string;
  id = await upload(await quadrants(2000, 1000).jpeg().toBuffer(), 'image/jpeg');
}, 120_000);
afterAll(async () => {
  await srv?.close();
  await pg?.drop();
});

describe('Client Hints', () => {
  test('the same URL with different Sec-CH-DPR gives the right sizes; Vary lists the hint headers; Accept-CH asks for them', async () => {
    const path = `/t/w_auto,dpr_auto,f_webp/${id}`;
    // Sec-CH-Width is the layout width in device px: ÷ the stepped DPR, up to 50 CSS px, × DPR.
    for (const [dpr, width, expected] of [['1', '600', 600], ['2', '1200', 1200], ['3', '1800', 1800], ['1.3', '780', 825], ['2', '1010', 1100]] as const) {
      const r = await get(path, { 'sec-ch-dpr': dpr, 'sec-ch-width': width });
      expect(r.status).toBe(200);
      expect(r.meta?.width).toBe(expected);
      expect(r.res.headers.get('vary')).toBe('Sec-CH-Width, Width, Sec-CH-DPR, DPR');
      expect(r.res.headers.get('accept-ch')).toBe('Sec-CH-Width, Sec-CH-DPR, Width, DPR');
    }
    // The legacy DPR/Width headers work too, and a negotiated format keeps Accept in Vary.
    const legacy = await get(`/t/w_auto,dpr_auto/${id}`, { dpr: '2', width: '400', accept: 'image/webp' });
    expect(legacy.meta?.width).toBe(400);
    expect(legacy.res.headers.get('vary')).toBe('Accept, Sec-CH-Width, Width, Sec-CH-DPR, DPR');
    // No hints: w_auto's fallback, DPR 1.
    expect((await get(`/t/w_auto:300,dpr_auto,f_webp/${id}`)).meta?.width).toBe(300);
    // URLs without hints do not vary on them.
    expect((await get(`/t/w_300,f_webp/${id}`)).res.headers.get('vary')).toBeNull();
  }, 120_000);

  test('cached variants stay within the DPR steps, and the fast path answers each hint with its own variant', async () => {
    const path = `/t/w_300,dpr_auto,f_png/${id}`;
    const dprs = ['1', '1.1', '1.2', '1.3', '1.5', '2', '2.1', '2.625', '3', '3.5', '4', '5', '0.5', '1.75'];
    let misses = 0;
    const widths = new Set<number>();
    for (const dpr of dprs) {
      const r = await get(path, { 'sec-ch-dpr': dpr });
      expect(r.status).toBe(200);
      const step = Math.min(4, Math.max(1, Math.ceil(Number(dpr) * 2) / 2));
      expect(r.meta?.width).toBe(300 * step);
      widths.add(r.meta?.width as number);
      if (r.xCache === 'MISS') misses++;
    }
    // 1, 1.5, 2, 2.5, 3, 3.5, 4: seven derivatives for fourteen different DPRs.
    expect(widths.size).toBe(7);
    expect(misses).toBe(7);
    // Every value again: all hits (memory, mostly via the fast path), each with its own size.
    const before = await fastPathResponses();
    for (const dpr of [...dprs].reverse()) {
      const r = await get(path, { 'sec-ch-dpr': dpr });
      expect(r.xCache).toBe('HIT-MEMORY');
      expect(r.meta?.width).toBe(300 * Math.min(4, Math.max(1, Math.ceil(Number(dpr) * 2) / 2)));
      expect(r.res.headers.get('vary')).toBe('Sec-CH-DPR, DPR');
    }
    expect(await fastPathResponses()).toBeGreaterThan(before);
    // A hint-free URL of the same size is the same derivative (`dpr_2,w_300`).
    expect((await get(`/t/w_300,dpr_2,f_png/${id}`)).xCache).toBe('HIT-MEMORY');
  }, 120_000);
});

async function fastPathResponses(): Promise<number> {
  const res = await fetch(`${srv.url}/metrics`, { headers: { 'x-api-key': key } });
  const text = await res.text();
  return Number(/^pictor_delivery_fast_path_responses_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('chains', () => {
  test('a chain renders step by step, is cached by its canonical form, and 400s name the step rule', async () => {
    const chain = await get(`/t/c_fill,w_200,h_200,g_north_west/e_negate/bo_5px_solid_red/${id}.png`);
    expect(chain.status).toBe(200);
    expect([chain.meta?.width, chain.meta?.height, chain.meta?.format]).toEqual([210, 210, 'png']);
    // Same steps, keys written in another order: the same derivative.
    expect((await get(`/t/h_200,g_north_west,w_200,c_fill/e_negate/bo_5px_solid_rgb:ff0000/${id}.png`)).xCache).toBe('HIT-MEMORY');
    // Output keys outside the last step, and too many steps, are 400.
    expect((await get(`/t/f_webp/w_10/${id}`)).status).toBe(400);
    // Six steps, or an empty one: 400 INVALID_TRANSFORMATION saying so, signed or not (a bare 404 "No route" before).
    for (const path of [`/t/w_1/w_2/w_3/w_4/w_5/w_6/${id}`, `/authenticated/s--abc/w_1/w_2/w_3/w_4/w_5/w_6/${id}`, `/t//${id}`, `/t/w_10//e_negate/${id}`]) {
      const res = await fetch(`${srv.url}${path}`);
      const body = (await res.json()) as { error: string; message: string };
      expect([path, res.status, body.error]).toEqual([path, 400, 'INVALID_TRANSFORMATION']);
      expect(body.message).toMatch(path.includes('//') ? /a single "\/"/ : /at most 5 steps/);
    }
    // Another prefix: still the usual 404.
    expect((await fetch(`${srv.url}/x/w_1/w_2/w_3/w_4/w_5/w_6/${id}`)).status).toBe(404);
  }, 60_000);

  test('a chain on an animation makes a still image, and f_auto picks a still format for it (it picked GIF, or WebP over AVIF)', async () => {
    const gif = await upload(await animation('gif', 4, 80, 60), 'image/gif');
    // Without WebP or AVIF in Accept, an animation's f_auto is a GIF; a chain's first frame is a
    // still image, and one that may be transparent (a GIF has alpha) is a PNG.
    const plain = await get(`/t/w_40/e_negate/${gif}`, { accept: 'image/png,image/*;q=0.8' });
    expect([plain.status, plain.res.headers.get('content-type'), plain.meta?.pages ?? 1]).toEqual([200, 'image/png', 1]);
    const avif = await get(`/t/w_40/e_negate/${gif}`, { accept: 'image/avif,image/webp,*/*' });
    expect([avif.status, avif.res.headers.get('content-type')]).toEqual([200, 'image/avif']);
    // One step keeps the animation, and the format that carries it.
    const single = await get(`/t/w_40/${gif}`, { accept: 'image/png,image/*;q=0.8' });
    expect([single.status, single.res.headers.get('content-type'), single.meta?.pages]).toEqual([200, 'image/gif', 4]);
  }, 60_000);

  test('a signed chain covers every step: the URL from signed-url works, changing a step is 403', async () => {
    const res = await fetch(`${srv.url}/api/files/${id}/signed-url`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ transformations: 'w_100,c_fill,h_100/e_grayscale', expires_in: 600 }),
    });
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    const path = new URL(url).pathname;
    expect(path).toMatch(/^\/authenticated\/s--[^/]+\/c_fill,h_100,w_100\/e_grayscale,exp_\d+\/[^/]+$/);
    const ok = await get(path);
    expect([ok.status, ok.meta?.width]).toEqual([200, 100]);
    expect((await get(path.replace('c_fill,h_100,w_100', 'c_fill,h_100,w_101'))).status).toBe(403);
    expect((await get(path.replace('/e_grayscale,', '/e_negate,'))).status).toBe(403);
  }, 60_000);
});

describe('default image (d_)', () => {
  test('a missing or private file answers with the public default (any owner\'s), a public PDF only with its owner\'s; without d_ 404/400', async () => {
    const fallback = await upload(await quadrants(300, 300).png().toBuffer(), 'image/png');
    const hidden = await upload(await quadrants(100, 100).png().toBuffer(), 'image/png', '?is_public=false');
    for (const missing of ['doesnotexist1', hidden]) {
      const r = await get(`/t/w_50,f_png,d_${fallback}/${missing}`);
      expect([r.status, r.meta?.width, r.meta?.height]).toEqual([200, 50, 50]);
      expect(r.res.headers.get('cache-control')).toBe('public, max-age=300');
      expect((await get(`/t/w_50,f_png/${missing}`)).status).toBe(404);
    }
    // The default must itself be public: a private default changes nothing.
    expect((await get(`/t/w_50,d_${hidden}/doesnotexist1`)).status).toBe(404);
    expect((await get(`/t/w_50,d_doesnotexist2/doesnotexist1`)).status).toBe(404);
    // A public file /t cannot render (a PDF) answers with its owner's default; without d_ it stays a 400.
    const pdf = await upload(Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'), 'application/pdf');
    const forPdf = await get(`/t/w_60,f_png,d_${fallback}/${pdf}`);
    expect([forPdf.status, forPdf.meta?.width]).toEqual([200, 60]);
    expect((await get(`/t/w_60,f_png/${pdf}`)).status).toBe(400);
    // Another account's public image: a default for a missing file, but never for this account's public PDF.
    const reg = await fetch(`${srv.url}/api/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'other-d@example.com', password: 'correct horse 1' }),
    });
    expect(reg.status).toBe(201);
    const token = ((await reg.json()) as { session: { access_token: string } }).session.access_token;
    const theirs = await fetch(`${srv.url}/api/files`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' }, body: new Uint8Array(await quadrants(80, 80).png().toBuffer()),
    });
    expect(theirs.status).toBe(201);
    const otherId = ((await theirs.json()) as { file: { id: string } }).file.id;
    expect((await get(`/t/w_30,f_png,d_${otherId}/doesnotexist3`)).meta?.width).toBe(30);
    expect((await get(`/t/w_30,f_png,d_${otherId}/${pdf}`)).status).toBe(400);
    // An existing public image is served as itself.
    const own = await get(`/t/w_40,f_png,d_${fallback}/${id}`);
    expect([own.status, own.meta?.width, own.meta?.height]).toEqual([200, 40, 20]);
  }, 60_000);
});
