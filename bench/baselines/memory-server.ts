/**
 * Baseline: a minimal `Bun.serve` answering the same derivative bytes from memory — the
 * ceiling for a JS server on this runtime. argv: <manifest.json> mapping URL path → file.
 * An entry with `headers` is answered with them (a prebuilt `Headers`) plus a fresh
 * `X-Request-Id` per request, as API.md asks of every response: the same bytes on the wire as
 * Pictor's hit, with none of Pictor's work behind them. argv[3] `peer`: each request's peer
 * address is also read (`server.requestIP`), which an IP-keyed rate limit cannot do without.
 */
interface Entry {
  file: string;
  type: string;
  headers?: Record<string, string>;
}
const manifest = (await Bun.file(process.argv[2]!).json()) as Record<string, Entry>;
const bodies = new Map<string, { body: ArrayBuffer; type: string; headers: Headers | null }>();
for (const [path, m] of Object.entries(manifest)) {
  bodies.set(path, { body: await Bun.file(m.file).arrayBuffer(), type: m.type, headers: m.headers ? new Headers(m.headers) : null });
}

const readPeer = process.argv[3] === 'peer';

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req, srv) {
    if (readPeer) srv.requestIP(req);
    const path = decodeURIComponent(new URL(req.url).pathname);
    const hit = bodies.get(path);
    if (!hit) return new Response('not found', { status: 404 });
    if (!hit.headers) return new Response(hit.body, { headers: { 'content-type': hit.type, 'cache-control': 'public, max-age=31536000, immutable' } });
    const res = new Response(hit.body, { headers: hit.headers });
    res.headers.set('x-request-id', crypto.randomUUID());
    return res;
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
export {};
