/**
 * Bun's handler (server.ts) re-makes a JSON answer made after an `await` whose body does not fit
 * one corked write as a one-chunk stream, which Bun writes corked (small-body.ts): it reaches the
 * client whole, chunked, with every header; small answers keep their `Content-Length`. How many
 * writes an answer takes is measured by `bench/list.ts` (socket sends per page, with strace); a
 * test cannot see it, since the kernel merges the segments before a client reads them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { serve, type HttpServer } from './server';
import { inOneWrite } from './small-body';

const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8', 'x-request-id': 'r1' };
const json = (files: number) => JSON.stringify({ results: Array.from({ length: files }, (_, i) => ({ id: `f${i}`, name: `été ${i}.png`, url: `https://cdn.example.com/i/f${i}.png` })) });
const large = json(400); // ~30 KB, as a file list page
const small = json(3);

let server: HttpServer;
beforeAll(async () => {
  server = await serve(async (request) => {
    await Bun.sleep(1); // the answer is made outside the handler's synchronous part, as after a database read
    const text = new URL(request.url).pathname === '/large' ? large : small;
    return new Response(text, { headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) } });
  }, { port: 0, hostname: '127.0.0.1', maxRequestBodySize: 1024, reusePort: false });
});
afterAll(() => server.stop());

/** Whether `raw` holds a whole HTTP/1.1 answer (chunked, or as long as its `Content-Length`). */
function complete(raw: Buffer): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /content-length: (\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
  return length ? raw.byteLength - end - 4 >= Number(length[1]) : raw.toString('latin1').endsWith('\r\n0\r\n\r\n');
}

/** The raw answer to one GET of `path`. */
function rawGet(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      const raw = Buffer.concat(parts);
      if (complete(raw)) {
        socket.destroy();
        resolve(raw.toString('utf8'));
      }
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

test('a large JSON answer arrives whole as one chunk, with every header', async () => {
  const raw = (await rawGet('/large')).toLowerCase();
  expect(raw).toContain('x-request-id: r1');
  expect(raw).toContain('transfer-encoding: chunked');
  expect(raw).not.toContain('content-length');
  expect(raw).toContain(`\r\n${large.toLowerCase()}\r\n0\r\n\r\n`);
});

test('a small JSON answer keeps its Content-Length', async () => {
  const raw = await rawGet('/small');
  expect(raw.toLowerCase()).toContain(`content-length: ${Buffer.byteLength(small)}`);
  expect(raw.endsWith(small)).toBe(true);
});

test('only JSON bodies of a known length between the cork buffer and 1 MiB are re-made; status and headers kept', async () => {
  const h = new Headers({ 'content-type': 'application/problem+json', 'content-length': String(Buffer.byteLength(large)) });
  h.append('set-cookie', 'a=1; Path=/');
  h.append('set-cookie', 'b=2; Path=/');
  const made = await inOneWrite(new Response(large, { status: 404, headers: h }));
  expect([made.status, made.headers.get('content-length'), made.headers.getSetCookie()]).toEqual([404, null, ['a=1; Path=/', 'b=2; Path=/']]);
  expect(await made.text()).toBe(large);

  const kept = [
    new Response(small, { headers: { 'content-type': 'application/json', 'content-length': String(small.length) } }),
    new Response(large, { headers: { 'content-type': 'text/html', 'content-length': String(large.length) } }),
    new Response(null, { status: 304, headers: { 'content-type': 'application/json', 'content-length': String(large.length) } }),
    new Response(new ReadableStream(), { headers: { 'content-type': 'application/json' } }), // no length: a stream of unknown size
    new Response('{}', { headers: { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) } }),
  ];
  for (const res of kept) expect(await inOneWrite(res)).toBe(res);
});
