#!/usr/bin/env bash
# Limiter benchmark (see bench/limits.ts): /t cache hits, public bucket on (Redis) vs DISABLE_RATE_LIMIT=true.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "${K6:-$HOME/.cache/pictor-tools/bin/k6}" ] || ./scripts/ensure-tools.sh
exec ./node_modules/.bin/bun bench/limits.ts "$@"
