/**
 * Links, hosts and the client address over real HTTP (issue #26 points 6–8, issue #17 point 3):
 * links follow the listening port when PUBLIC_URL is unset, a short `Host` routes like any other
 * and cannot slip past the `public` and `api` limits, request logs record the client IP, and
 * `Retry-After` never exceeds the window.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import sharp from 'sharp';
import { createClient } from '../helpers/client';
import { rawRequest } from '../helpers/raw-http';
import { startServer, type RunningServer } from '../helpers/server';

setDefaultTimeout(30_000);

const WINDOW_S = 60;
const ENV = {
  RATE_LIMIT_PUBLIC: `3/${WINDOW_S}s`,
  RATE_LIMIT_API: `3/${WINDOW_S}s`,
  RATE_LIMIT_PASSWORD_RESET: `2/${WINDOW_S}s`,
  RATE_LIMIT_REGISTER: '100/1h',
  // One trusted hop: requests without X-Forwarded-For are keyed and logged by the socket address.
  TRUST_PROXY: '1',
};

describe('links, hosts and client addresses', () => {
  let server: RunningServer;
  let api: ReturnType<typeof createClient>;
  let adminKey: string;
  let fileId: string;
  let fileUrl: string;

  beforeAll(async () => {
    // PORT=0 (picked by the OS) and no PUBLIC_URL: the helper's defaults.
    server = await startServer({ env: ENV });
    api = createClient(server.url);
    adminKey = server.bootstrap!.api_key;
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } }).png().toBuffer())], { type: 'image/png' }), 'a.png');
    const res = await fetch(`${server.url}/api/files`, { method: 'POST', body: form, headers: { 'x-api-key': adminKey } });
    expect(res.status).toBe(201);
    const { file } = (await res.json()) as { file: { id: string; url: string } };
    fileId = file.id;
    fileUrl = file.url;
  }, 60_000);
  afterAll(() => server?.close());

  test('PUBLIC_URL unset: every link uses the port actually listened on', async () => {
    const base = `http://localhost:${server.port}`;
    expect(server.port).not.toBe(3000);
    expect(fileUrl).toBe(`${base}/i/${fileId}.png`);
    const spec = (await api('GET', '/openapi.json')).body as { servers: { url: string }[] };
    expect(spec.servers).toEqual([{ url: base }]);
    const agents = (await api('GET', '/api/reference/for-agents')).body;
    expect(agents).toMatchObject({ base_url: base, docs_url: `${base}/docs` });
  });

  test('a short Host header routes like any other', async () => {
    for (const host of ['x', 'app', `x:${server.port}`]) {
      expect((await rawRequest(server.port, { path: '/health', host })).status).toBe(200);
      const profile = await rawRequest(server.port, { path: '/api/profile', host, headers: { 'x-api-key': adminKey } });
      expect(profile.status).toBe(200);
      expect(JSON.parse(profile.body).user.email).toBe(server.bootstrap!.email);
    }
    // Unknown paths are still 404 with the envelope, under a short host too.
    const missing = await rawRequest(server.port, { path: '/zz/api/profile', host: 'x', headers: { 'x-api-key': adminKey } });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toBe('NOT_FOUND');
  });

  test('Host: x cannot pass the public limit: once spent, nothing under /i is served', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/i/${fileId}`)).status).toBe(200);
    expect((await fetch(`${server.url}/i/${fileId}`)).status).toBe(429);
    // Same client IP, short host: the router and the limiter see one path, so a prefix the
    // router used to drop does not reach the file uncounted, and the file itself stays limited.
    const get = (path: string) => rawRequest(server.port, { path, host: 'x' });
    expect((await get(`/zz/i/${fileId}`)).status).not.toBe(200);
    expect((await get(`/zz/d/${fileId}`)).status).not.toBe(200);
    const limited = await get(`/i/${fileId}`);
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body)).toMatchObject({ error: 'RATE_LIMITED', details: { bucket: 'public' } });
  });

  test('Host: x cannot pass the api limit', async () => {
    const reg = await api('POST', '/api/auth/register', { email: `host-${Date.now()}@example.com`, password: 'correct horse 1' });
    expect(reg.status).toBe(201);
    const bearer = reg.body.session.access_token as string;
    for (let i = 0; i < 3; i++) expect((await api('GET', '/api/profile', undefined, { bearer })).status).toBe(200);
    expect((await api('GET', '/api/profile', undefined, { bearer })).status).toBe(429);
    const get = (path: string) => rawRequest(server.port, { path, host: 'x', headers: { authorization: `Bearer ${bearer}` } });
    expect((await get('/zz/api/profile')).status).not.toBe(200);
    expect((await get('/zz/api/files')).status).not.toBe(200);
    expect((await get('/api/profile')).status).toBe(429);
  });

  test('request logs record the client IP, honouring TRUST_PROXY', async () => {
    const direct = `/api/files?limit=7`;
    const proxied = `/api/files?limit=8`;
    expect((await api('GET', direct, undefined, { key: adminKey })).status).toBe(200);
    expect((await api('GET', proxied, undefined, { key: adminKey, headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(200);
    // Entries are written in batches: wait until both show.
    const deadline = Date.now() + 15_000;
    let entries: { path: string; ip: string | null }[] = [];
    const find = (path: string) => entries.find((e) => e.path === path);
    while (!(find(direct) && find(proxied)) && Date.now() < deadline) {
      const logs = await api('GET', '/api/logs?limit=200', undefined, { key: adminKey });
      expect(logs.status).toBe(200);
      entries = logs.body.results;
      if (!(find(direct) && find(proxied))) await Bun.sleep(200);
    }
    expect(find(direct)?.ip).toBe('127.0.0.1');
    expect(find(proxied)?.ip).toBe('203.0.113.7');
  });

  test('Retry-After (and details.retry_after) never exceeds the window', async () => {
    const forgot = () => api('POST', '/api/auth/forgot-password', { email: 'nobody@example.com' });
    expect((await forgot()).status).toBe(202);
    expect((await forgot()).status).toBe(202);
    const limited = await forgot();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_S);
    expect(limited.body.details).toMatchObject({ bucket: 'password_reset', window_seconds: WINDOW_S, retry_after: retryAfter });
  });
});
