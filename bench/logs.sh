#!/usr/bin/env bash
# Request-log overhead benchmark (issue #8 acceptance 4): authenticated API throughput with
# REQUEST_LOGS=true vs REQUEST_LOGS=false, same build, same run. Starts two servers (fresh
# Postgres databases on 127.0.0.1:5432 unless EMBEDDED=1, then PGlite; DISABLE_RATE_LIMIT=true)
# on free ports with temp DATA_DIRs, takes each bootstrap API key from its log, warms both,
# runs bench/k6/logs.js (warm-up, then alternating rounds, never both at once), and checks that
# the logs-on server really wrote its entries (GET /api/logs count). It does that twice, once
# starting the logs-on server first and once second: with two identical servers (A/A), the one
# started first measured 3–6 % slower on this machine, whatever the k6 order. The mean of the
# two passes' ratios cancels that. Exits 1 when the mean is below MIN_RATIO (0.95).
# env: VUS (16), ROUNDS (6), SECONDS_PER_ROUND (4), API_PATH (/api/files?limit=10), MIN_RATIO,
#      EMBEDDED, LOGS_ON_VALUE (what the "on" server gets: `false` makes an A/A run).
set -euo pipefail
cd "$(dirname "$0")/.."
K6="${K6_BIN:-$HOME/.cache/pictor-tools/bin/k6}"
[ -x "$K6" ] || ./scripts/ensure-tools.sh k6
PG="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"

pids=(); dirs=(); dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
  for db in "${dbs[@]}"; do psql "$PG/postgres" -qAtc "drop database if exists $db with (force)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# start <REQUEST_LOGS> → sets url and key
start() {
  local dir log db_env=() port="" i
  dir="$(mktemp -d /tmp/pictor-bench-logs-XXXXXX)"; dirs+=("$dir")
  log="$dir/server.log"
  if [ "${EMBEDDED:-0}" != 1 ]; then
    local db="pictor_bench_logs_$1_$$_${#dbs[@]}"
    psql "$PG/postgres" -qAtc "create database $db" >/dev/null
    dbs+=("$db"); db_env=(DATABASE_URL="$PG/$db")
  fi
  env "${db_env[@]}" PORT=0 HOST=127.0.0.1 DATA_DIR="$dir/data" DISABLE_RATE_LIMIT=true LOG_LEVEL=info \
    QUEUE_CONCURRENCY=0 REQUEST_LOGS="$1" ./node_modules/.bin/bun src/main.ts >"$log" 2>&1 &
  pids+=($!)
  for i in $(seq 1 900); do
    port="$(grep '"msg":"listening"' "$log" | grep -o '"port":[0-9]*' | head -1 | cut -d: -f2 || true)"
    [ -n "$port" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log"; echo "server exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; echo "server did not listen" >&2; exit 1; }
  url="http://127.0.0.1:$port"
  key="$(grep -o '"api_key":"pk_[A-Za-z0-9]*"' "$log" | head -1 | cut -d'"' -f4)"
  for i in 1 2 3; do curl -sf -o /dev/null -H "x-api-key: $key" "$url${API_PATH:-/api/files?limit=10}"; done
}

api_path="${API_PATH:-/api/files?limit=10}"
# pass <on-first|off-first> → prints k6's line and the logs check; sets ratio
pass() {
  local first_pids=${#pids[@]}
  if [ "$1" = on-first ]; then
    start "${LOGS_ON_VALUE:-true}"; on_url="$url"; on_key="$key"; start false; off_url="$url"; off_key="$key"
  else
    start false; off_url="$url"; off_key="$key"; start "${LOGS_ON_VALUE:-true}"; on_url="$url"; on_key="$key"
  fi
  local result logged dropped
  result="$("$K6" run --quiet --no-color -e ON_URL="$on_url" -e ON_KEY="$on_key" -e OFF_URL="$off_url" -e OFF_KEY="$off_key" \
    -e API_PATH="$api_path" -e VUS="${VUS:-16}" -e ROUNDS="${ROUNDS:-6}" -e SECONDS="${SECONDS_PER_ROUND:-4}" \
    bench/k6/logs.js | tail -1)"
  echo "$1: $result"
  sleep 2 # the batch writer's last second
  logged="$(curl -sf -H "x-api-key: $on_key" "$on_url/api/logs?limit=1" | grep -o '"count":[0-9]*' | cut -d: -f2)"
  dropped="$(curl -sf -H "x-api-key: $on_key" "$on_url/metrics" | grep '^pictor_request_logs_dropped_total' | awk '{print $2}')"
  echo "$1: logs-on server wrote $logged entries, dropped $dropped"
  ratio="$(echo "$result" | grep -o '"ratio":[0-9.]*' | cut -d: -f2)"
  # Stop this pass's servers before the next starts.
  for p in "${pids[@]:$first_pids}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

pass on-first; r1="$ratio"
pass off-first; r2="$ratio"
ratio="$(awk "BEGIN{printf \"%.3f\", ($r1 + $r2) / 2}")"
echo "with request logs: $(awk "BEGIN{printf \"%.1f\", $ratio*100}")% of the throughput without (cost $(awk "BEGIN{printf \"%.1f\", (1-$ratio)*100}")%; passes $r1 and $r2)"
awk "BEGIN{exit !($ratio >= ${MIN_RATIO:-0.95})}" || { echo "below ${MIN_RATIO:-0.95}" >&2; exit 1; }
