#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it). Service-backed suites use the
# local Postgres and Redis (TEST_DATABASE_URL / TEST_REDIS_URL override) and a MinIO built into
# ~/.cache/pictor-tools when missing; a suite that cannot reach its service fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh minio
# The web app's browser tests need its build (npm install makes it; rebuilt here when stale).
bash scripts/build-web.sh --if-stale
# The embedded database's template (npm install makes it; a fresh DATA_DIR copies it instead of running initdb).
./node_modules/.bin/bun scripts/pglite-template.ts
# No import circles among src/ files (runtime imports; see the script for why types do not count).
./node_modules/.bin/bun scripts/check-circles.ts
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
./node_modules/.bin/bun test --timeout 60000 "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
skipped=$(grep -Eo '^ *[0-9]+ skip$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
if [ "$failed" != "0" ]; then
  # CI keeps only the tail of the output: each failure's own lines (bun prints them just before
  # its "(fail)" line, after the previous test's result) are repeated here, next to the totals.
  echo "== failures, repeated from above"
  awk '/^\(pass\)|^\(skip\)|^\(todo\)|^[^ ]+\.test\.tsx?:$/ { n = 0; next }
       /^\(fail\)/ { if (!seen[$0]++ && n > 0) { for (i = (n > 80 ? n - 79 : 1); i <= n; i++) print buf[i]; print $0; print "" } n = 0; next }
       /^ *[0-9]+ tests? failed:$/ { exit }
       { buf[++n] = $0 }' "$log"
fi
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$skipped" != "0" ]; then echo "skipped tests are not allowed" >&2; exit 1; fi
exit "$status"
