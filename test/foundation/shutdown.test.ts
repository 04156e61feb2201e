/**
 * Graceful shutdown: a SIGTERM that arrives while a slow request is in flight lets it finish
 * (the client gets its full answer), refuses new connections, and exits 0.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { request } from 'node:http';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
});
afterAll(() => server?.close());

/** POSTs a JSON body in small pieces over `spreadMs`, like a slow mobile client. */
function slowPost(path: string, body: string, spreadMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    const pieces = body.match(/.{1,4}/g) ?? [];
    const gap = spreadMs / pieces.length;
    let i = 0;
    const next = () => {
      if (i === pieces.length) return void req.end();
      req.write(pieces[i++]);
      setTimeout(next, gap);
    };
    next();
  });
}

test('SIGTERM mid-request: the request completes, new connections are refused, exit code 0', async () => {
  const body = JSON.stringify({ email: server.bootstrap!.email, password: server.bootstrap!.initial_password });
  const inFlight = slowPost('/api/auth/login', body, 2000);
  await Bun.sleep(400);
  const exit = server.stop('SIGTERM');
  await Bun.sleep(200);
  // The listener is closed while the slow request is still streaming its body.
  await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  const res = await inFlight;
  expect(res.status).toBe(200);
  const parsed = JSON.parse(res.text) as { user: { email: string }; session: { access_token: string } };
  expect(parsed.user.email).toBe(server.bootstrap!.email);
  expect(parsed.session.access_token.length).toBeGreaterThan(20);
  expect(await exit).toBe(0);
  expect(server.logs.some((l) => l.msg === 'stopped')).toBe(true);
});
