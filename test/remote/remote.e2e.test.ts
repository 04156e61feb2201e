/**
 * Remote sources over real HTTP (#24 acceptance 3). An origin server on loopback plays the
 * remote host; the Pictor under test is allowed loopback explicitly (OUTBOUND_ALLOW_LOOPBACK).
 * Addresses that must never be reached (169.254.169.254, 10.0.0.1) are refused before any
 * connection, so no packet goes to them. A name resolving to a private address through the
 * real resolver is `localhost` on a server that does not allow loopback; arbitrary names
 * resolving to 10/8 are covered with an injected resolver in src/lib/ssrf.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import sharp from 'sharp';
import { makeTestApp, type TestApp } from '../helpers/app';
import { quadrants } from '../helpers/images';
import { startServer, type RunningServer } from '../helpers/server';

const enc = (u: string) => encodeURIComponent(u);
const b64 = (u: string) => Buffer.from(u).toString('base64url');

describe('remote sources', () => {
  let png: Buffer;
  const hits: { path: string; inm: string | null }[] = [];
  let releaseSlow: () => void = () => {};
  const slowHeld = new Promise<void>((r) => (releaseSlow = r));
  let origin: ReturnType<typeof Bun.serve>;
  let srv: RunningServer;
  let o: string;

  beforeAll(async () => {
    png = await quadrants(300, 200).png().toBuffer();
    origin = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(req): Response {
        const u = new URL(req.url);
        hits.push({ path: u.pathname, inm: req.headers.get('if-none-match') });
        switch (u.pathname) {
          case '/photo.png':
            if (req.headers.get('if-none-match') === '"v1"') return new Response(null, { status: 304, headers: { etag: '"v1"' } });
            return new Response(new Uint8Array(png), { headers: { 'content-type': 'image/png', etag: '"v1"' } });
          case '/lying.png': return new Response('<html><body>not an image</body></html>', { headers: { 'content-type': 'image/png' } });
          case '/broken': return new Response('no', { status: 500 });
          case '/to-private': return Response.redirect('http://10.0.0.1/photo.png', 302);
          case '/to-metadata': return Response.redirect('http://169.254.169.254/latest/meta-data/', 302);
          case '/to-photo': return Response.redirect('/photo.png', 302);
          case '/huge': {
            // 16 KiB chunks for ever, no Content-Length: only the streaming limit stops it.
            return new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(16 * 1024)); } }), { headers: { 'content-type': 'image/png' } });
          }
          case '/slow': {
            // The first bytes of the image, then nothing until the test ends.
            return new Response(new ReadableStream({
              async start(c) {
                c.enqueue(png.subarray(0, 100));
                await slowHeld;
                c.close();
              },
            }), { headers: { 'content-type': 'image/png' } });
          }
          default: return new Response('not found', { status: 404 });
        }
      },
    });
    o = `http://127.0.0.1:${origin.port}`;
    srv = await startServer({
      env: {
        REMOTE_SOURCES: 'true',
        OUTBOUND_ALLOW_LOOPBACK: 'true',
        // The refused addresses are on the allow-list on purpose: the address rules hold whatever it says.
        REMOTE_ALLOW_HOSTS: '127.0.0.1,10.0.0.1,169.254.169.254',
        REMOTE_MAX_BYTES: '256KiB',
        REMOTE_TIMEOUT_MS: '2000',
        // Every request revalidates with the kept ETag.
        REMOTE_CACHE_TTL: '0',
        DISABLE_RATE_LIMIT: 'true',
      },
    });
  }, 120_000);

  afterAll(async () => {
    releaseSlow();
    await srv?.close();
    origin?.stop(true);
  });

  const get = (source: string, tr = 'w_150,f_png', headers: Record<string, string> = {}) => fetch(`${srv.url}/t/${tr}/remote/${source}`, { headers });
  const expectError = async (res: Response, status: number, code: string) => {
    const body = (await res.json()) as { error: string; message: string; details?: Record<string, unknown> };
    expect({ status: res.status, error: body.error }).toEqual({ status, error: code });
    return body;
  };

  test('an allowed host on loopback transforms (percent-encoded and base64url forms give the same image)', async () => {
    const res = await get(enc(`${o}/photo.png`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([150, 100]);
    const again = await get(b64(`${o}/photo.png`));
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(res.headers.get('etag'));
    expect(again.headers.get('x-cache')).toStartWith('HIT');
    // A cache that kept only the date: If-Modified-Since is honoured as If-None-Match is.
    const since = await get(enc(`${o}/photo.png`), 'w_150,f_png', { 'if-modified-since': again.headers.get('last-modified')! });
    expect(since.status).toBe(304);
  });

  test('the source is revalidated with its ETag (304 keeps it) and a redirect to an allowed host is followed', async () => {
    hits.length = 0;
    const res = await get(enc(`${o}/photo.png`), 'w_80,f_webp');
    expect(res.status).toBe(200);
    expect(hits).toEqual([{ path: '/photo.png', inm: '"v1"' }]);
    const redirected = await get(enc(`${o}/to-photo`), 'w_60,f_png');
    expect(redirected.status).toBe(200);
    expect((await sharp(Buffer.from(await redirected.arrayBuffer())).metadata()).width).toBe(60);
  });

  test('metadata, private and non-allow-listed addresses are refused, before any connection', async () => {
    const body = await expectError(await get(enc('http://169.254.169.254/latest/meta-data/')), 403, 'REMOTE_SOURCE_REFUSED');
    expect(body.message).toContain('metadata');
    expect((await expectError(await get(enc('http://10.0.0.1/photo.png')), 403, 'REMOTE_SOURCE_REFUSED')).message).toContain('private');
    expect((await expectError(await get(enc(`http://localhost:${origin.port}/photo.png`)), 403, 'REMOTE_SOURCE_REFUSED')).message).toContain('allow-list');
  });

  test('a redirect to a private or metadata address is refused', async () => {
    expect((await expectError(await get(enc(`${o}/to-private`)), 403, 'REMOTE_SOURCE_REFUSED')).message).toContain('10.0.0.1');
    expect((await expectError(await get(enc(`${o}/to-metadata`)), 403, 'REMOTE_SOURCE_REFUSED')).message).toContain('metadata');
  });

  test('an over-size body and a slow body are cut off', async () => {
    const big = await expectError(await get(enc(`${o}/huge`)), 413, 'FILE_TOO_LARGE');
    expect(big.message).toContain(String(256 * 1024));
    const slow = await expectError(await get(enc(`${o}/slow`)), 504, 'REMOTE_SOURCE_TIMEOUT');
    expect(slow.message).toContain('REMOTE_TIMEOUT_MS');
  });

  test('content is sniffed like an upload; a failing origin and a bad source are clear errors', async () => {
    await expectError(await get(enc(`${o}/lying.png`)), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await expectError(await get(enc(`${o}/broken`)), 502, 'REMOTE_SOURCE_UNAVAILABLE')).message).toContain('500');
    // A closed port is told in the API's words (Bun's were "ECONNREFUSED: Unable to connect. Is the computer able to access the url?.").
    const closed = await expectError(await get(enc('http://127.0.0.1:1/a.png')), 502, 'REMOTE_SOURCE_UNAVAILABLE');
    expect([closed.message, closed.details?.reason]).toEqual(['The remote source could not be fetched: the connection was refused.', 'refused']);
    await expectError(await get(enc('ftp://127.0.0.1/x')), 400, 'VALIDATION_ERROR');
    await expectError(await get('not~a~url'), 400, 'VALIDATION_ERROR');
    // Keys that need an account's file are refused, not ignored.
    await expectError(await get(enc(`${o}/photo.png`), 'w_50,d_someid'), 400, 'INVALID_TRANSFORMATION');
    await expectError(await get(enc(`${o}/photo.png`), 'w_50,l_someid'), 400, 'INVALID_TRANSFORMATION');
  });

  test('Client Hints: w_auto and dpr_auto take the stepped hints, and Vary names them', async () => {
    // Width 290 device px at DPR 1.8: DPR steps up to 2, 145 CSS px up to 150 → 300 px.
    const res = await get(enc(`${o}/photo.png`), 'w_auto,dpr_auto,f_png', { 'sec-ch-width': '290', 'sec-ch-dpr': '1.8' });
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(300);
    expect(res.headers.get('vary')).toContain('Sec-CH-DPR');
    expect(res.headers.get('vary')).toContain('Sec-CH-Width');
    expect(res.headers.get('accept-ch')).toContain('Sec-CH-DPR');
    // Another width in the same step shares the derivative.
    const same = await get(enc(`${o}/photo.png`), 'w_auto,dpr_auto,f_png', { 'sec-ch-width': '300', 'sec-ch-dpr': '2' });
    expect(same.headers.get('etag')).toBe(res.headers.get('etag'));
  });

  test('signed remote URLs: signed by the API, a wrong signature is refused', async () => {
    const res = await fetch(`${srv.url}/api/remote/signed-url`, {
      method: 'POST',
      headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${o}/photo.png`, transformations: 'w_40,f_png' }),
    });
    expect(res.status).toBe(200);
    const { url } = (await res.json()) as { url: string };
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect((await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).width).toBe(40);
    await expectError(await fetch(url.replace(/s--[^/]+/, 's--AAAAAAAAAAAAAAAAAAAAAAAA')), 403, 'INVALID_SIGNATURE');
    // HEAD answers the headers of the same render.
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(ok.headers.get('etag'));
    // The caller's own exp_ was dropped for now + 1 h without a word.
    const own = await fetch(`${srv.url}/api/remote/signed-url`, {
      method: 'POST',
      headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${o}/photo.png`, transformations: 'w_40,exp_2000000000' }),
    });
    await expectError(own, 400, 'VALIDATION_ERROR');
  });

  test('a remote source takes one segment: a chain is refused when signed and when asked for (it was signed, then could never be served; asked for, a 404 "File not found")', async () => {
    const chained = await fetch(`${srv.url}/api/remote/signed-url`, {
      method: 'POST',
      headers: { 'x-api-key': srv.bootstrap?.api_key ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${o}/photo.png`, transformations: 'w_70/h_20' }),
    });
    await expectError(chained, 400, 'INVALID_TRANSFORMATION');
    await expectError(await get(enc(`${o}/photo.png`), 'w_60/w_30'), 400, 'INVALID_TRANSFORMATION');
  });
});

describe('remote sources without the loopback opt-in, and turned off', () => {
  let on: TestApp;
  let off: TestApp;
  let origin: ReturnType<typeof Bun.serve>;
  let hits = 0;
  beforeAll(async () => {
    origin = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => (hits++, new Response('x')) });
    on = await makeTestApp({ env: { REMOTE_SOURCES: 'true', DISABLE_RATE_LIMIT: 'true' } });
    off = await makeTestApp({ env: { DISABLE_RATE_LIMIT: 'true', OUTBOUND_ALLOW_LOOPBACK: 'true' } });
  }, 120_000);
  afterAll(async () => {
    await on?.close();
    await off?.close();
    origin?.stop(true);
  });

  test('[::1], 127.0.0.1 and a name the real resolver maps to loopback (localhost) are refused', async () => {
    for (const u of [`http://[::1]:${origin.port}/a.png`, `http://127.0.0.1:${origin.port}/a.png`, `http://localhost:${origin.port}/a.png`]) {
      const res = await on.request(`/t/w_10/remote/${enc(u)}`);
      const body = (await res.json()) as { error: string; message: string };
      expect({ u, status: res.status, error: body.error }).toEqual({ u, status: 403, error: 'REMOTE_SOURCE_REFUSED' });
      expect(body.message).toContain('loopback');
    }
    expect(hits).toBe(0);
  });

  test('nothing is fetched when the feature is off', async () => {
    const res = await off.request(`/t/w_10/remote/${enc(`http://127.0.0.1:${origin.port}/a.png`)}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain('REMOTE_SOURCES');
    const signed = await off.request(`/authenticated/s--AAAAAAAAAAAAAAAAAAAAAAAA/w_10/remote/${b64(`http://127.0.0.1:${origin.port}/a.png`)}`);
    expect(signed.status).toBe(404);
    expect(hits).toBe(0);
  });
});
