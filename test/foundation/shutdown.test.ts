/**
 * Graceful shutdown: a SIGTERM that arrives while a slow request is in flight lets it finish
 * (the client gets its full answer), refuses new connections, and exits 0.
 * Every step waits for a condition, not a time: a connection the server has not yet taken up
 * when its listener closes is reset by the kernel (as with any server), so the test first
 * makes sure the request is being handled (the server's `100 Continue`), and keeps the body
 * open until it has seen new connections refused.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { request } from 'node:http';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ env: { DISABLE_RATE_LIMIT: 'true' } });
}, 120_000);
afterAll(() => server?.close());

interface SlowPost {
  /** Resolves once the server has read the request head and is handling it (its 100 Continue). */
  handling: Promise<void>;
  /** Sends the rest of the body and ends the request. */
  finish(): void;
  response: Promise<{ status: number; text: string }>;
}

/** POSTs a JSON body like a slow mobile client: the first piece, then the rest only on `finish()`. */
function slowPost(path: string, body: string): SlowPost {
  let handled!: () => void;
  const handling = new Promise<void>((r) => (handled = r));
  let finish!: () => void;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', expect: '100-continue' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.on('continue', () => req.write(body.slice(0, 4), () => handled()));
    finish = () => req.end(body.slice(4));
    req.flushHeaders();
  });
  return { handling, finish, response };
}

/** Polls until a new connection to the server is refused (the listener is closed). */
async function untilRefused(deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const refused = await fetch(`${server.url}/health`).then(async (r) => void (await r.arrayBuffer()), () => true);
    if (refused) return;
    await Bun.sleep(20);
  }
  throw new Error('the server kept accepting connections after SIGTERM');
}

test('SIGTERM mid-request: the request completes, new connections are refused, exit code 0', async () => {
  const body = JSON.stringify({ email: server.bootstrap!.email, password: server.bootstrap!.initial_password });
  const inFlight = slowPost('/api/auth/login', body);
  await inFlight.handling;
  const exit = server.stop('SIGTERM');
  // The listener is closed while the slow request is still streaming its body.
  await untilRefused();
  inFlight.finish();
  const res = await inFlight.response;
  expect(res.status).toBe(200);
  const parsed = JSON.parse(res.text) as { user: { email: string }; session: { access_token: string } };
  expect(parsed.user.email).toBe(server.bootstrap!.email);
  expect(parsed.session.access_token.length).toBeGreaterThan(20);
  expect(await exit).toBe(0);
  expect(server.logs.some((l) => l.msg === 'stopped')).toBe(true);
});
