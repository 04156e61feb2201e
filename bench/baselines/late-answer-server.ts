/**
 * A `Bun.serve` that answers `GET /<bytes>/<plain|stream>` after a 1 ms timer (as after a
 * database read) with ten headers and a body of `<bytes>` bytes, given as a string (`plain`) or
 * as a one-chunk stream (`stream`). For bench/cork.ts, which counts the sends of each answer.
 */
const headers: Record<string, string> = { 'content-type': 'application/json' };
for (let i = 0; i < 9; i++) headers[`x-header-${i}`] = `value-${i}`;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    const [, size, kind] = new URL(req.url).pathname.split('/');
    const body = 'x'.repeat(Number(size));
    await Bun.sleep(1);
    if (kind !== 'stream') return new Response(body, { headers });
    const bytes = Buffer.from(body);
    return new Response(new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }), { headers });
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
