/**
 * Why a target can be missed on this kind of machine, and what would close it. Shown in the
 * summary next to every target that is not met (the figures are in the table beside it).
 */
export const TARGET_NOTES: Record<string, string> = {
  'memory-cache hits / nginx':
    'On a 2-core machine the static baselines are bound by k6 itself, not by the server: nginx and the raw Bun.serve land close together, and their p99 is as high as Pictor\'s. No server can show 1.2× nginx under such a client; `bash bench/transform.sh` also reports each server\'s CPU per request over the same k6 run, which is the server-side figure.',
  'memory-cache hits / raw Bun.serve':
    'This row has the public rate limit on (one Redis decision per hit); compare "memory-cache hits / raw Bun.serve (limiter off)". Hits are answered before routing (src/modules/transform/fast.ts) with prebuilt headers; what remains is the lookup, usage and metrics counting and the request id. With k6 on the same cores, short windows (--quick) move this ratio by ±10 %.',
  'cold transforms / raw sharp':
    'Pictor adds the source read, the probe, the pool, HTTP and the cache write around the same libvips work (same settings on both sides); one slow photo dominates the 8 renders of --quick. `bash bench/transform.sh` runs 160 renders.',
  '1 GiB upload MB/s / raw stream-to-disk':
    'Pictor also sniffs, counts and hashes (SHA-256) every byte, then fsyncs, renames and commits a row; the baseline only writes and fsyncs. The hash and the write run on two worker threads fed from one shared-memory copy, but on 2 cores shared with the client the hash (≈ 0.6 s of CPU per GiB, `bun bench/micro.ts`) has no idle core. A single --quick round also moves by ±15 %; `ROUNDS=7 SMALL=0 bash bench/upload.sh` gives the median.',
  '1 GiB upload to S3 (MinIO) peak RSS growth (MiB)': 'lib-storage holds up to queueSize × partSize (4 × 8 MiB) of parts, and the first upload after start grows the heap that later ones reuse (`STORAGE=s3 ROUNDS=3 SMALL=0 bash bench/upload.sh` shows the first round above the later ones). Bun\'s own S3 client, which streams parts natively, was not tried.',
  'rate limiting on / off (hits)': 'Every public hit takes one decision of the Redis sliding window (concurrent decisions of one key are coalesced into one round trip, src/modules/limits/coalesce.ts); on 2 shared cores the Redis server and its client work compete with the hits themselves.',
  'GET /api/files p95 at 100 000 files, Postgres (ms)': 'Each page runs the keyset query and the `count`. Profiles point at postgres.js socket writes over loopback TCP and Drizzle building the SQL on every call; prepared statements for the unfiltered list and a Unix-socket DATABASE_URL are the next steps.',
};
