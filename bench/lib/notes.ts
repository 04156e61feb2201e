/**
 * Why a target can be missed on this kind of machine, and what would close it. Shown in the
 * summary next to every target that is not met (the figures are in the table beside it).
 */
export const TARGET_NOTES: Record<string, string> = {
  'memory-cache hits / nginx':
    'Mostly the rate limiter: compare "memory-cache hits / raw Bun.serve (limiter off)" and "rate limiting on / off" — with the limiter off the hit path is near raw Bun. Beyond that, nginx answers a static file from C with sendfile; Pictor parses the URL, checks policy, the file row (cached), the rate limit and the cache key in JS for every hit. On 2 cores k6 itself takes about one core, so both servers are CPU-starved and the fixed JS cost per request dominates. Closing it: WORKERS=2 on machines with spare cores (see WORKERS=2 / nginx 2 workers), or a CDN/nginx cache in front for public derivatives.',
  'memory-cache hits / raw Bun.serve':
    'The gap is almost all the public rate limit: one Redis Lua call per hit, awaited in an Elysia onRequest hook (server CPU stays low while throughput is capped, so it is latency-bound, not CPU-bound). With DISABLE_RATE_LIMIT the same hits run near raw Bun.serve. Closing it: take tokens from Redis in batches per client IP (local allowance, one round trip per N requests) or check hits against a local window synced periodically.',
  'cold transforms / raw sharp':
    'Pictor adds the storage read, the file lookup, the pool queue, and the cache write (memory + disk) around the same libvips work. Closing it: write the disk tier after responding, and size TRANSFORM_CONCURRENCY to cores (see the TRANSFORM_CONCURRENCY variant).',
  '1 GiB upload MB/s / raw stream-to-disk':
    'Pictor hashes SHA-256, counts and sniffs while streaming through web-stream transforms, then fsyncs, renames and commits a row; the baseline only writes and fsyncs. Closing it: hash with Bun.CryptoHasher (native) instead of WASM, write in larger batches (fewer, bigger writes), and avoid per-chunk promise hops between the limit/sniff/hash stages.',
  '1 GiB upload peak RSS growth (MiB)': 'Something buffers instead of streaming; look for a Request body read into memory or an unbounded queue between the parser and the storage writer.',
  '1 GiB upload to S3 (MinIO) peak RSS growth (MiB)': 'Growth beyond the whole upload size means the S3 path buffers instead of applying backpressure (lib-storage Upload reads the source stream ahead into parts; queueSize × partSize should be the bound). Closing it: pass a stream that only yields when lib-storage pulls, cap queueSize × partSize (e.g. 4 × 8 MiB), and verify with this variant.',
  'rate limiting on / off (hits)': 'Every public hit awaits one Redis EVALSHA on a single per-IP key before routing; with one client IP all of them serialise on that key. Closing it: local pre-allocation (take N tokens per Redis call per IP), or count hits locally and reconcile with Redis every few ms; WORKERS≥2 meanwhile keeps more round trips in flight.',
  'GET /api/files p95 at 100 000 files, Postgres (ms)': 'EXPLAIN ANALYZE at 100 000 rows: the total `count(*)` is a 65 ms sequential scan on every page, while the keyset page query takes ~1 ms (its cursor `or(col < v, col = v and id < x)` is a filter, not an index condition, so deep pages also read more rows). Closing it: answer `count` from users.files_count when no filter is set (exact, already maintained) or cache it per (user, filter) briefly, and write the cursor as a row comparison `(created_at, id) < ($1, $2)` so it becomes an index condition.',
  'responses outside 2xx/3xx (except intended 429/503)': 'See the unexpected column: a route answered an error under load; the server log of that variant has the cause.',
};
