#!/usr/bin/env bash
# Auth benchmark: API-key GET /api/profile vs unauthenticated /health in one k6 run.
# Starts the server (embedded defaults, DISABLE_RATE_LIMIT=true) on a free port with a temp
# DATA_DIR, takes the bootstrap API key from its log, warms the key cache, runs
# bench/k6/auth.js, prints both req/s and the ratio, and exits 1 when the ratio is < 0.70.
# env: VUS (16), ROUNDS (4), SECONDS_PER_ROUND (3), MIN_RATIO (0.70), plus any server env
# (e.g. REQUEST_LOGS=false to leave out the request-log writer, which is not auth).
set -euo pipefail
cd "$(dirname "$0")/.."
K6="${K6_BIN:-$HOME/.cache/pictor-tools/bin/k6}"
[ -x "$K6" ] || ./scripts/ensure-tools.sh k6

data_dir="$(mktemp -d /tmp/pictor-bench-auth-XXXXXX)"
log="$(mktemp /tmp/pictor-bench-auth-log-XXXXXX)"
PORT=0 HOST=127.0.0.1 DATA_DIR="$data_dir" DISABLE_RATE_LIMIT=true LOG_LEVEL=info \
  ./node_modules/.bin/bun src/main.ts >"$log" 2>&1 &
server_pid=$!
cleanup() { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$data_dir" "$log"; }
trap cleanup EXIT

port=""
for _ in $(seq 1 300); do
  port="$(grep -o '"msg":"listening"[^}]*' "$log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
  [ -z "$port" ] && port="$(grep '"listening"' "$log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "server did not listen" >&2; exit 1; }
api_key="$(grep -o '"api_key":"pk_[A-Za-z0-9]*"' "$log" | head -1 | cut -d'"' -f4)"
base="http://127.0.0.1:$port"

# Warm-up: the first use of a key loads it (one query); the benchmark measures the warm path.
for _ in 1 2 3; do curl -sf -o /dev/null -H "x-api-key: $api_key" "$base/api/profile"; done

result="$("$K6" run --quiet --no-color -e BASE_URL="$base" -e API_KEY="$api_key" \
  -e VUS="${VUS:-16}" -e ROUNDS="${ROUNDS:-4}" -e SECONDS="${SECONDS_PER_ROUND:-3}" bench/k6/auth.js | tail -1)"
echo "$result"
ratio="$(echo "$result" | grep -o '"ratio":[0-9.]*' | cut -d: -f2)"
echo "GET /api/profile (API key) runs at $(awk "BEGIN{printf \"%.0f\", $ratio*100}")% of GET /health"
awk "BEGIN{exit !($ratio >= ${MIN_RATIO:-0.70})}" || { echo "below ${MIN_RATIO:-0.70}" >&2; exit 1; }
