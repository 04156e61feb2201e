/**
 * Why a target can be missed on this kind of machine, and what would close it. Shown in the
 * summary next to every target that is not met (the figures are in the table beside it).
 */
export const TARGET_NOTES: Record<string, string> = {
  'cold renders: time per render / sharp called directly':
    'Pictor adds the source read, the probe, the pool, HTTP and the cache write around the same libvips work (same settings on both sides); --quick renders only 8 URLs, one slow photo dominates them, and the sharp side runs second. `bash bench/transform.sh` (160 renders) gave 0.94–1.03 of sharp\'s rate.',
  'server CPU per memory hit / Bun.serve, Redis limiter':
    'Hits are answered before routing (src/modules/transform/fast.ts) with prebuilt headers; what remains is the Response header copy, two cache lookups, the request id, usage and metrics counting and the limiter. The public bucket spends local slices (one Redis call per slice), so the Redis-side cost per hit is small, but the client library and its timers still run in the server. 3-second windows move this ratio by ±15 % (limits off has read higher than the in-process limiter).',
  'server CPU per memory hit / Bun.serve, in-process limiter':
    'As for the Redis limiter: the remaining per-hit work is the Response header copy, two cache lookups, the request id (randomUUID), usage and metrics. Not yet profiled after the slices.',
  'GET /api/files p95 at 100 000 files, Postgres (ms)':
    'Measured at 4 VUs against one server process at 100 % CPU (≈2.9 ms of server CPU per page), so p95 is mostly queueing. Each page runs the keyset query and a count; prepared statements for the unfiltered list and dropping or caching the count are the next steps.',
  'GET /api/files p95 at 100 000 files, PGlite (ms)':
    'PGlite is single-threaded WASM in the server process: 4 concurrent pages queue behind each other (bench/pglite-buffers.ts, one page at a time, gave p95 6.5–8.6 ms). Same next steps as Postgres.',
  'upload to S3 (MinIO) peak RSS growth (MiB)':
    'The plain baseline (Bun\'s S3 client alone, same part size, streaming the same file) grew its own RSS by ~91 MiB in the same run: most of this is Bun\'s client. Pictor\'s collections keep it below the plain client\'s growth, not below 64.',
  'upload to S3 MB/s / plain multipart upload':
    'Pictor receives the body over HTTP, sniffs, hashes (SHA-256) and forwards it on the same 2 cores the client and MinIO use; the plain baseline only reads a file and sends it. One part in flight (chosen for RSS) serialises the upload.',
  'distinct 200 KB JPEG uploads / text uploads (per s)':
    'Per JPEG upload the server spends ~55 ms of CPU in the window against ~6–16 ms for text, and the upload\'s own latency is ~150 ms against ~25–50. Neither making the eager `thumb` preset non-eager (26 → 31–35/s) nor taking the derive job\'s dominant colour from the small decode (its drain halved, the rate did not move) closed it: the cost is in the upload request itself, not yet traced (probe, GPS handling, sniffing are the places to profile).',
  '1 GiB upload MB/s / raw stream-to-disk':
    'One upload to each server, one after the other, with no control of the state of memory: on this VM, memory that has sat free for a few seconds costs several times the CPU to write page cache into (`bun bench/micro.ts` part 7), and whoever writes into it loses. `ROUNDS=3 bash bench/upload.sh` puts every server on the same footing (warm-up, rotated order, each upload removed right after it is measured) and is the acceptance figure: 0.82–1.03 in five runs.',
  'rate limiting on / off (hits/s)': 'One 3-second window each; `bash bench/limits.sh` (alternating rounds) gave 0.905 and 0.936.',
};
