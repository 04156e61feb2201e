/**
 * Why a target can be missed on this kind of machine, and what would close it. Shown in the
 * summary next to every target that is not met (the figures are in the table beside it).
 */
export const TARGET_NOTES: Record<string, string> = {
  'memory-cache hits / nginx':
    'nginx answers a static file from C with sendfile; Pictor parses the URL, checks policy, the file row (cached), the rate limit and the cache key in JS for every hit. On 2 cores k6 itself takes about one core, so both servers are CPU-starved and the fixed JS cost per request dominates. Closing it: WORKERS=2 on machines with spare cores (see WORKERS=2 / nginx 2 workers), or a CDN/nginx cache in front for public derivatives.',
  'memory-cache hits / raw Bun.serve':
    'The gap is Pictor\'s own per-request work (routing, lookups, limiter round trip to Redis, headers). Closing it: skip the Elysia lifecycle for `/t` hits (a pre-router fast path), keep the limiter check local with periodic Redis sync.',
  'cold transforms / raw sharp':
    'Pictor adds the storage read, the file lookup, the pool queue, and the cache write (memory + disk) around the same libvips work. Closing it: write the disk tier after responding, and size TRANSFORM_CONCURRENCY to cores (see the TRANSFORM_CONCURRENCY variant).',
  '1 GiB upload MB/s / raw stream-to-disk':
    'Pictor hashes SHA-256 and sniffs the type while streaming, and commits a row at the end; the baseline only writes. Closing it: a faster hash (hash-wasm SIMD or native), larger write chunks.',
  '1 GiB upload peak RSS growth (MiB)': 'Something buffers instead of streaming; look for a Request body read into memory or an unbounded queue between the parser and the storage writer.',
  '1 GiB upload to S3 (MinIO) peak RSS growth (MiB)': 'lib-storage keeps queueSize × partSize in memory; lower queueSize or partSize.',
  'rate limiting on / off (hits)': 'Every public hit waits for a Redis round trip. Closing it: a local token pre-allocation (take N per Redis call) or pipelining the check.',
  'GET /api/files p95 at 100 000 files, Postgres (ms)': 'The exact `count` over 100 000 rows is scanned per page. Closing it: serve count from users.files_count when no filter is set, or an index-only count.',
  'responses outside 2xx/3xx (except intended 429/503)': 'See the unexpected column: a route answered an error under load; the server log of that variant has the cause.',
};
