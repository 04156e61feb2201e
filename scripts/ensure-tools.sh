#!/usr/bin/env bash
# Builds the Go tools Pictor's tests and benchmarks use (MinIO, k6) into a cache when they are
# missing. Needs Go and its module proxy; prints where each tool is.
set -euo pipefail
TOOLS_DIR="${PICTOR_TOOLS_DIR:-$HOME/.cache/pictor-tools}"
mkdir -p "$TOOLS_DIR/bin"
for tool in "$@"; do
  case "$tool" in
    minio) module=github.com/minio/minio@latest ;;
    k6) module=go.k6.io/k6@latest ;;
    *) echo "unknown tool $tool" >&2; exit 2 ;;
  esac
  if [ ! -x "$TOOLS_DIR/bin/$tool" ]; then
    command -v go >/dev/null || { echo "Go is needed to build $tool" >&2; exit 1; }
    echo "building $tool (first run only) ..." >&2
    (cd /tmp && GOBIN="$TOOLS_DIR/bin" GOFLAGS=-mod=mod go install "$module") >&2
  fi
done
