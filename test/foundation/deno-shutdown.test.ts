/**
 * SIGTERM under Deno: `Deno.serve`'s shutdown() made the body of a request still being received
 * unreadable, so an upload in flight was lost (answered 499); and it waited for good on a
 * connection whose client never sent the body it declared. The server now drains first (new
 * requests get a 503 meanwhile) and then closes. Each step waits for a condition, not a time.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ runtime: 'deno', timeoutMs: 60_000, env: { UPLOAD_IDLE_TIMEOUT: '5', SHUTDOWN_TIMEOUT_MS: '20000', DISABLE_RATE_LIMIT: 'true' } });
}, 120_000);
afterAll(() => server?.close());

/**
 * A raw upload sent like a slow phone: the first piece now, a byte every 100 ms (so that the
 * idle timeout never ends it, however long the steps between take), the rest on `finish()`.
 */
function slowUpload(first: string, rest: string) {
  let handled!: () => void;
  const handling = new Promise<void>((r) => (handled = r));
  let finish!: () => void;
  let sent = first.length + rest.length;
  let trickle: ReturnType<typeof setInterval> | undefined;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${server.url}/api/files`, {
      method: 'POST',
      headers: { 'x-api-key': server.bootstrap!.api_key, 'content-type': 'text/plain', 'x-file-name': 'slow.txt', 'transfer-encoding': 'chunked', expect: '100-continue' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.on('continue', () => req.write(first, () => {
      trickle = setInterval(() => {
        req.write('.');
        sent++;
      }, 100);
      handled();
    }));
    finish = () => {
      clearInterval(trickle);
      req.end(rest);
    };
    req.flushHeaders();
  });
  return { handling, finish, response, size: () => sent };
}

/** A GET past the suite's OpenAPI check of `fetch` (that check reads /openapi.json, which a stopping server answers 503). */
function plainGet(path: string): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(`${server.url}${path}`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, retryAfter: res.headers['retry-after'] }));
    }).on('error', reject).end();
  });
}

/** A connection that declared a body, sent a little of it and stopped: answered 408, left open. */
async function stalledConnection(): Promise<Socket> {
  const socket = connect(server.port, '127.0.0.1');
  let got = '';
  const answered = new Promise<void>((resolve) => socket.on('data', (d) => {
    got += d.toString();
    if (got.includes('\r\n\r\n')) resolve();
  }));
  socket.write(`POST /api/files HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.bootstrap!.api_key}\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(1000)}`);
  await answered;
  expect(got.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  return socket;
}

test('Deno: an empty upload body is a 400 as on Bun (it was a 415 application/x-empty)', async () => {
  const res = await fetch(`${server.url}/api/files`, { method: 'POST', headers: { 'x-api-key': server.bootstrap!.api_key, 'content-type': 'image/png' }, body: '' });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string; message: string }).message).toBe('The request body is empty.');
});

test('Deno: SIGTERM mid-upload: the upload is stored, new requests meanwhile get a 503, a stalled connection does not hold the exit', async () => {
  const stalled = await stalledConnection();
  const first = 'the first part of a slow upload, ';
  const rest = 'and the rest, sent after SIGTERM.';
  const upload = slowUpload(first, rest);
  await upload.handling;
  const exit = server.stop('SIGTERM');
  // Draining: the listener still answers, with a 503 that says why.
  for (;;) {
    const res = await plainGet('/health').catch(() => null);
    if (res?.status === 503) {
      expect((JSON.parse(res.text) as { error: string }).error).toBe('OVERLOADED');
      expect(res.retryAfter).toBe('1');
      break;
    }
    await Bun.sleep(20);
  }
  upload.finish();
  const res = await upload.response;
  expect(res.status).toBe(201);
  expect((JSON.parse(res.text) as { file: { size: number } }).file.size).toBe(upload.size());
  expect(await exit).toBe(0);
  stalled.destroy();
  expect(server.logs.filter((l) => l.msg === 'in-flight requests did not finish in time' || l.status === 499)).toEqual([]);
}, 120_000);
