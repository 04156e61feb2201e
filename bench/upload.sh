#!/usr/bin/env bash
# Upload benchmark (issue #4): 1 GiB raw upload vs a minimal Bun disk-writer in the same run,
# plus 200 KB multipart uploads/s with k6. Usage: bash bench/upload.sh [bytes]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh k6 >/dev/null
exec ./node_modules/.bin/bun bench/upload.ts "$@"
