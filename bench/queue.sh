#!/usr/bin/env bash
# Queue throughput on the local Postgres (127.0.0.1:5432): single-job enqueues, then 100-job
# batches. Prints one JSON line per run; results also go to bench/results/queue-<time>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out="bench/results/queue-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
./node_modules/.bin/bun bench/queue.ts --jobs "${JOBS:-5000}" --batch 1 --producers 8 --concurrency 16 | tee -a "$out"
./node_modules/.bin/bun bench/queue.ts --jobs "${JOBS:-5000}" --batch 100 --producers 2 --concurrency 32 | tee -a "$out"
