/**
 * The web app's static serving (issue #20): `/` and deep links answer the HTML shell without
 * caching and with a strict CSP (no inline script), hashed assets are immutable, and the API,
 * delivery, docs, health and metrics paths keep their own answers (an unknown `/api/…` path is
 * still the JSON 404 envelope, even for a browser asking for HTML).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

const DIST = resolve(import.meta.dir, '../../web/dist/index.html');
const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

let server: RunningServer;
beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error('web/dist is not built: run npm run build:web (npm install and npm test do it)');
  server = await startServer();
}, 90_000);
afterAll(async () => {
  await server?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

function expectShell(res: Response, html: string): void {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/html');
  expect(res.headers.get('cache-control')).toBe('no-cache');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("img-src 'self' blob: data:");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(html).toContain('<div id="app">');
  // Every script is an external file of this origin: nothing inline for the CSP to refuse.
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    expect(m[1]).toMatch(/src="\/assets\//);
    expect(m[2]!.trim()).toBe('');
  }
}

describe('web app serving', () => {
  test('/ is the app shell, not a JSON 404, whatever query the app keeps its state in', async () => {
    for (const path of ['/', '/?folder=%2Falbums&view=list&q=cat']) {
      const res = await get(path);
      expectShell(res, await res.text());
    }
  });

  test('deep links a browser opens fall back to the shell', async () => {
    for (const path of ['/files/abc123XyZ9', '/library', '/login', '/account', '/register?next=%2F']) {
      const res = await get(path, HTML);
      expectShell(res, await res.text());
    }
  });

  test('hashed assets are immutable for a year, gzipped for clients that accept it', async () => {
    const html = await (await get('/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) {
      expect(a).toMatch(/-[A-Za-z0-9_-]{6,}\.(js|css)$/);
      const res = await get(a, { 'accept-encoding': 'gzip' });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toMatch(a.endsWith('.js') ? /javascript/ : /text\/css/);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  test('conditional requests: the shell and an asset answer 304 to their ETag however a client or proxy sends it', async () => {
    const first = await get('/');
    const asset = (await first.text()).match(/src="(\/assets\/[^"]+\.js)"/)![1]!;
    for (const path of ['/', asset]) {
      const plain = await get(path);
      await plain.arrayBuffer();
      const etag = plain.headers.get('etag');
      expect(etag).toMatch(/^"[^"]+"$/);
      // As sent back, weakened by a compressing proxy (W/), inside a list, and as `*`: all name this copy.
      for (const inm of [etag!, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await get(path, { 'if-none-match': inm });
        expect([path, inm, res.status]).toEqual([path, inm, 304]);
      }
      const other = await get(path, { 'if-none-match': '"other"' });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
    }
  });

  test('the initial JavaScript is far below 150 KB gzipped', async () => {
    const html = await (await get('/')).text();
    let total = 0;
    for (const m of html.matchAll(/src="(\/assets\/[^"]+\.js)"/g)) {
      const res = await fetch(`${server.url}${m[1]}`, { headers: { 'accept-encoding': 'gzip' }, decompress: false } as RequestInit);
      expect(res.headers.get('content-encoding')).toBe('gzip');
      total += (await res.arrayBuffer()).byteLength;
    }
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(150 * 1024);
  });

  test('the icon: /favicon.svg as the shell links it, /favicon.ico as a PNG for the pages that do not (/docs, share and embed pages)', async () => {
    const html = await (await get('/')).text();
    expect(html).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml"');
    const svg = await get('/favicon.svg', HTML);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toStartWith('<svg ');
    const ico = await get('/favicon.ico', { accept: 'image/avif,image/webp,image/*,*/*;q=0.8' });
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/png');
    expect(ico.headers.get('cache-control')).toBe('public, max-age=86400');
    const png = await sharp(Buffer.from(await ico.arrayBuffer())).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 48, 48]);
    const again = await get('/favicon.ico', { 'if-none-match': ico.headers.get('etag')! });
    expect(again.status).toBe(304);
    const head = await fetch(`${server.url}/favicon.ico`, { method: 'HEAD' });
    expect([head.status, (await head.arrayBuffer()).byteLength]).toEqual([200, 0]);
  });

  test('API, delivery, docs, health and metrics keep their routes', async () => {
    for (const path of ['/api/nope', '/api/files/zz/nope', '/docs/nope', '/assets/old-build-123.js']) {
      const res = await get(path, HTML);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect((await res.json()).error).toBe('NOT_FOUND');
    }
    // A file link a browser opens gets the delivery's own page saying so, not the app's shell.
    for (const path of ['/i/nope', '/d/nope']) {
      const res = await get(path, HTML);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain('File not available');
      expect(html).not.toContain('id="app"');
    }
    expect((await get('/health', HTML)).headers.get('content-type')).toContain('application/json');
    expect((await get('/openapi.json', HTML)).headers.get('content-type')).toContain('application/json');
    expect((await get('/metrics', HTML)).status).toBe(401);
    // Without asking for HTML (an API client's typo), an unknown path stays a JSON 404.
    const res = await get('/librar');
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBe('NOT_FOUND');
    // A POST to an app path is not a page.
    const post = await fetch(`${server.url}/library`, { method: 'POST', headers: HTML });
    expect(post.status).toBe(404);
  });
});
