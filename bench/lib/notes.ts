/**
 * Why a target can be missed on this kind of machine, and what would close it. Shown in the
 * summary next to every target that is not met (the figures are in the table beside it).
 */
export const TARGET_NOTES: Record<string, string> = {
  'cold renders: time per render / sharp called directly':
    'Pictor adds the source read, the probe, the pool, HTTP and the cache write around the same libvips work (same settings on both sides). Both sides render one image per format untimed first, start on a quiet server and run twice in mirrored order (20 URLs per round in --quick). `bash bench/transform.sh` (160 renders) gave 0.94–1.03 of sharp\'s rate.',
  'server CPU per memory hit / Bun.serve, Redis limiter':
    'Hits are answered before routing (src/modules/transform/fast.ts) with prebuilt headers, and synchronously when the limiter decides from a local slice (`consumeNow`). The "Bun.serve with Pictor\'s response headers" row shows what the response itself costs (4–8 %); the rest is Pictor\'s per-hit work, about half a microsecond per lookup under load. Timed inside the server, the reads API.md requires (the request headers, the peer address) already put Pictor\'s process at 1.13–1.15× the headers baseline, before any lookup, limiter or accounting: not reachable on this runtime (docs/TUNING.md, "The hit path and the limiter"). 3-second windows move this ratio by ±15 %.',
  'server CPU per memory hit / Bun.serve, in-process limiter':
    'As for the Redis limiter: the in-process window decides synchronously (`consumeNow`); what remains is Pictor\'s per-hit work (header copy, lookups, request id, observers).',
  'GET /api/files p95 at 100 000 files, Postgres (ms)':
    '4 VUs against one server process that shares 2 cores with Postgres and k6, so p95 is mostly queueing. The default page runs as prepared statements with the total and URL base in one query, and responses are no longer run through TypeBox Encode (≈1.3 ms of server CPU per page, from ≈2.2); p95 at 1 VU is ≈4 ms. The page is serialised once (the request log used to serialise it again to size it).',
  'GET /api/files p95 at 100 000 files, PGlite (ms)':
    'PGlite is single-threaded WASM in the server process: 4 concurrent pages queue behind each other and behind the server\'s own JavaScript (bench/pglite-buffers.ts, one page at a time, gave p95 6.5–8.6 ms). Prepared statements apply here too.',
  'first /health 200, restart (ms)':
    'Mostly module loading and PGlite\'s WASM start (docs/TUNING.md, "Start-up"); clients of services the embedded defaults do not use no longer load, and the entry-bounded caches no longer preallocate. `bun bench/startup.ts --rounds=3` on its own gave 1.25–1.28 s after those changes. The quick run times it first, before any load phase; other agents\' work on the same 2 cores still moves it.',
  'upload to S3 (MinIO) peak RSS growth (MiB)':
    'A fresh process\'s first upload pays once for code paths compiled and the two pooled 5 MiB part buffers; later uploads grew 25–49 MiB (`STORAGE=s3 ROUNDS=3 SMALL=0 bash bench/upload.sh`, docs/TUNING.md, "Storage").',
  'upload to S3 MB/s / pass-through server':
    'Pictor sniffs, counts and hashes (SHA-256) every byte and copies it into its part buffers; the pass-through server only hands the body to Bun\'s native client. Pictor\'s request thread uses about 2–2.8 s of CPU per GiB, the pass-through\'s 0.8 s (the copy into part buffers, the hand-off to the hashing thread, Bun\'s fetch writing the streamed parts, a full collection every 128 MiB; docs/TUNING.md, "Storage"). `STORAGE=s3 ROUNDS=3 SMALL=0 bash bench/upload.sh` (1 GiB, three rounds) gave 0.84 and 0.85.',
  'distinct 200 KB JPEG uploads / text uploads (per s)':
    'Eager derivatives now wait while uploads arrive (QUEUE_DEFER_MS), which took this from 0.18 to 0.75–0.80. What is left per JPEG: the header probe (one strict sharp metadata read, ~0.2 ms; it was two), the GPS scan, and the derive job written in the upload\'s transaction (a row and its event in Postgres, on the same 2 cores).',
  '1 GiB upload MB/s / raw stream-to-disk':
    'Measured as `bash bench/upload.sh` does (one round in --quick, three in a full run). Pictor sniffs, counts and hashes (SHA-256) every byte on three threads while the sink only writes: on a host whose disk writes are fast it is CPU-bound (request thread ~0.6 s, hashing ~0.6 s, writing ~0.4 s per GiB; 0.73 on the Intel host of 2026-12-05, 0.82–1.03 on the AMD host before; docs/TUNING.md, "Storage").',
  'rate limiting on / off (hits/s)': 'One 3-second window each; `bash bench/limits.sh` (alternating rounds) gave 0.905 and 0.936.',
};
