/**
 * Baseline: a minimal `Bun.serve` answering the same derivative bytes from memory — the
 * ceiling for a JS server on this runtime. argv: <manifest.json> mapping URL path → file.
 */
const manifest = (await Bun.file(process.argv[2]!).json()) as Record<string, { file: string; type: string }>;
const bodies = new Map<string, { body: ArrayBuffer; type: string }>();
for (const [path, m] of Object.entries(manifest)) bodies.set(path, { body: await Bun.file(m.file).arrayBuffer(), type: m.type });

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(req) {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const hit = bodies.get(path);
    if (!hit) return new Response('not found', { status: 404 });
    return new Response(hit.body, { headers: { 'content-type': hit.type, 'cache-control': 'public, max-age=31536000, immutable' } });
  },
});
console.log(JSON.stringify({ msg: 'listening', port: server.port }));
export {};
