/**
 * CORS over real HTTP (issue #26 point 10): public delivery answers every origin with
 * `Access-Control-Allow-Origin: *` (routed responses, the fast path's memory hits, 304s and
 * errors alike); `/api` answers preflights and adds CORS headers only for `CORS_API_ORIGINS`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../helpers/server';

setDefaultTimeout(30_000);

const APP = 'https://app.example.com';
const STRANGER = 'https://evil.example.net';

async function uploadPng(server: RunningServer): Promise<string> {
  const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#3a6' } }).png().toBuffer();
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'c.png');
  const res = await fetch(`${server.url}/api/files`, { method: 'POST', body: form, headers: { 'x-api-key': server.bootstrap!.api_key } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { file: { id: string } }).file.id;
}

const preflight = (url: string, origin: string, method = 'POST') =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } });

describe('CORS with CORS_API_ORIGINS set', () => {
  let server: RunningServer;
  let id: string;
  beforeAll(async () => {
    server = await startServer({ env: { CORS_API_ORIGINS: `${APP},http://localhost:5173` } });
    id = await uploadPng(server);
  }, 60_000);
  afterAll(() => server?.close());

  test('public delivery sends Access-Control-Allow-Origin: * on 200, 304, HEAD and errors', async () => {
    for (const path of [`/i/${id}`, `/i/${id}.png`, `/d/${id}`]) {
      const res = await fetch(`${server.url}${path}`, { headers: { origin: STRANGER } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const etag = res.headers.get('etag')!;
      await res.arrayBuffer();
      const again = await fetch(`${server.url}${path}`, { headers: { origin: STRANGER, 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.headers.get('access-control-allow-origin')).toBe('*');
      const head = await fetch(`${server.url}${path}`, { method: 'HEAD' });
      expect(head.headers.get('access-control-allow-origin')).toBe('*');
    }
    const missing = await fetch(`${server.url}/i/AAAAAAAAAAAA`, { headers: { origin: STRANGER } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('transformations: the rendered miss, the fast path memory hit and its 304 all carry it', async () => {
    const url = `${server.url}/t/w_8/${id}`;
    const first = await fetch(url, { headers: { origin: STRANGER } });
    expect(first.status).toBe(200);
    expect(first.headers.get('access-control-allow-origin')).toBe('*');
    await first.arrayBuffer();
    // The render lands in the memory tier; wait until a request is answered from it.
    let hit: Response | undefined;
    for (let i = 0; i < 50 && hit?.headers.get('x-cache') !== 'HIT-MEMORY'; i++) {
      hit = await fetch(url, { headers: { origin: STRANGER } });
      await hit.arrayBuffer();
    }
    expect(hit!.headers.get('x-cache')).toBe('HIT-MEMORY');
    expect(hit!.headers.get('access-control-allow-origin')).toBe('*');
    const notModified = await fetch(url, { headers: { origin: STRANGER, 'if-none-match': hit!.headers.get('etag')! } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('signed URLs under /authenticated carry it', async () => {
    const signed = await fetch(`${server.url}/api/files/${id}/signed-url`, {
      method: 'POST', headers: { 'x-api-key': server.bootstrap!.api_key, 'content-type': 'application/json' }, body: JSON.stringify({ transformations: 'w_6' }),
    });
    expect(signed.status).toBe(200);
    const { url } = (await signed.json()) as { url: string };
    const res = await fetch(`${server.url}${new URL(url).pathname}`, { headers: { origin: STRANGER } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('delivery preflight: 204 with GET/HEAD', async () => {
    const res = await preflight(`${server.url}/i/${id}`, STRANGER, 'GET');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('GET');
  });

  test('/api preflight from a listed origin: 204, origin echoed, credentials allowed, Vary: Origin', async () => {
    for (const origin of [APP, 'http://localhost:5173']) {
      const res = await preflight(`${server.url}/api/files`, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('vary')).toContain('Origin');
    }
  });

  test('/api preflight from another origin: 403 in the envelope, no CORS header', async () => {
    const res = await preflight(`${server.url}/api/files`, STRANGER);
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toBe('FORBIDDEN');
  });

  test('tus: a listed origin gets the credentialed answer on the tus endpoint and upload URLs; any page may use a presigned upload\'s, without credentials', async () => {
    // The tus endpoint was left out of the API's CORS altogether (taken for a presigned URL).
    const create = await preflight(`${server.url}/api/uploads/tus`, APP);
    expect(create.status).toBe(204);
    expect(create.headers.get('access-control-allow-origin')).toBe(APP);
    expect(create.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await preflight(`${server.url}/api/uploads/tus`, STRANGER)).status).toBe(403);
    const listed = await preflight(`${server.url}/api/uploads/tus/abc`, APP);
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    // Upload URLs and <presigned url>/tus: `*`, never with credentials (the random URL is the credential).
    for (const path of ['/api/uploads/tus/abc', '/api/uploads/AbC123/tus']) {
      const res = await preflight(`${server.url}${path}`, STRANGER);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('access-control-allow-headers')).toContain('upload-offset');
    }
    const head = await fetch(`${server.url}/api/uploads/tus/abc`, { method: 'HEAD', headers: { origin: STRANGER, 'tus-resumable': '1.0.0' } });
    expect(head.status).toBe(404);
    expect(head.headers.get('access-control-allow-origin')).toBe('*');
    expect(head.headers.get('access-control-expose-headers')).toContain('upload-offset');
  });

  test('a listed origin may send Range, If-Range, If-None-Match and Last-Event-ID, and read Content-Range (a resumable download or event stream was blocked)', async () => {
    const res = await fetch(`${server.url}/api/files/${id}/original`, {
      method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range, if-range, if-none-match, last-event-id' },
    });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    expect(['range', 'if-range', 'if-none-match', 'last-event-id'].filter((h) => !allowed.includes(h))).toEqual([]);
    const part = await fetch(`${server.url}/api/files/${id}/original`, { headers: { 'x-api-key': server.bootstrap!.api_key, origin: APP, range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    const exposed = (part.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim());
    expect(['content-range', 'accept-ranges'].filter((h) => !exposed.includes(h))).toEqual([]);
  });

  test('/api responses echo a listed origin only', async () => {
    const auth = { 'x-api-key': server.bootstrap!.api_key };
    const listed = await fetch(`${server.url}/api/profile`, { headers: { ...auth, origin: APP } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listed.headers.get('vary')).toContain('Origin');
    const other = await fetch(`${server.url}/api/profile`, { headers: { ...auth, origin: STRANGER } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Errors to a listed origin are readable too (the page can show why).
    const unauth = await fetch(`${server.url}/api/profile`, { headers: { origin: APP } });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('CORS defaults and a fixed delivery origin', () => {
  let server: RunningServer;
  let id: string;
  beforeAll(async () => {
    server = await startServer({ env: { CORS_DELIVERY_ORIGIN: 'https://site.example.org' } });
    id = await uploadPng(server);
  }, 60_000);
  afterAll(() => server?.close());

  test('CORS_DELIVERY_ORIGIN is what delivery sends', async () => {
    const res = await fetch(`${server.url}/i/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://site.example.org');
  });

  test('without CORS_API_ORIGINS no origin gets CORS on /api: its preflight is the 403 the README says (it was a 405)', async () => {
    const res = await preflight(`${server.url}/api/files`, APP);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string; message: string }).message).toContain('CORS_API_ORIGINS');
    const get = await fetch(`${server.url}/api/profile`, { headers: { 'x-api-key': server.bootstrap!.api_key, origin: APP } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });
});
