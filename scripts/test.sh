#!/usr/bin/env bash
# The whole test suite (what README's test command and .ci/run call). Service-backed suites use
# the local Postgres and Redis (TEST_DATABASE_URL / TEST_REDIS_URL override) and a MinIO built
# into ~/.cache/pictor-tools when missing; a suite that cannot reach its service fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh minio
exec ./node_modules/.bin/bun test "$@"
