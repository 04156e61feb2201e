#!/usr/bin/env bash
# Transform benchmark (bench/transform.ts): memory-cache hits vs nginx and Bun.serve on the same
# bytes (k6, 64 connections), and cold 400 px WebP transforms vs sharp in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "${K6:-$HOME/.cache/pictor-tools/bin/k6}" ] || ./scripts/ensure-tools.sh
exec ./node_modules/.bin/bun bench/transform.ts "$@"
