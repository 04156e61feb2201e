/**
 * An answer made after an `await` with a small body: on Bun it goes out as a one-chunk stream
 * (the way Bun writes corked: headers and body in one `send()`), reaches the client whole with
 * every header, and its length stays known for the request log. How many writes it takes is
 * measured by `bench/list.ts` (sends per page, with strace); a test cannot see it, since the
 * kernel merges the segments before a client reads them.
 */
import { afterAll, expect, test } from 'bun:test';
import { connect } from 'node:net';
import { bodyLength, smallBodyResponse } from './small-body';

// Pictor's API headers, roughly: each header was a write of its own before.
const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8' };
for (let i = 0; i < 12; i++) headers[`x-header-${i}`] = `value ${i}`;
const text = JSON.stringify({ results: Array.from({ length: 20 }, (_, i) => ({ id: `f${i}`, name: `été ${i}.png` })) });

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch() {
    await Bun.sleep(1); // the answer is made outside the handler's synchronous part, as after a database read
    return smallBodyResponse(text, { headers });
  },
});
afterAll(() => server.stop(true));

/** Whether `raw` holds a whole HTTP/1.1 answer (chunked, or as long as its `Content-Length`). */
function complete(raw: Buffer): boolean {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /content-length: (\d+)/i.exec(raw.subarray(0, end).toString('latin1'));
  return length ? raw.byteLength - end - 4 >= Number(length[1]) : raw.toString('latin1').endsWith('\r\n0\r\n\r\n');
}

/** The raw answer to one GET. */
function rawGet(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port!, '127.0.0.1');
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
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
}

test('the answer arrives whole, chunked, with every header', async () => {
  const raw = await rawGet();
  expect(raw).toContain('x-header-11: value 11');
  expect(raw.toLowerCase()).toContain('transfer-encoding: chunked');
  expect(raw.toLowerCase()).not.toContain('content-length');
  expect(raw).toContain(`\r\n${text}\r\n0\r\n\r\n`);
});

test('the body length is kept for the request log', () => {
  const res = smallBodyResponse('{"name":"été"}', { headers });
  expect(res.headers.get('content-length')).toBeNull();
  expect(bodyLength(res)).toBe(Buffer.byteLength('{"name":"été"}'));
  expect(bodyLength(new Response('x'))).toBeUndefined();
});
