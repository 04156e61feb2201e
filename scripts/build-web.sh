#!/usr/bin/env bash
# Builds the web app (web/ → web/dist, hashed assets). Runs as npm's `prepare` step, so
# `npm install` builds it, and before the tests when web/dist is missing or older than its
# sources (`--if-stale`). A production install without dev dependencies has no Vite: it keeps
# whatever web/dist holds (the Docker image builds it in its own stage).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/vite ]; then
  echo "build-web: vite is not installed (production install); web/dist left as it is"
  exit 0
fi
if [ "${1:-}" = "--if-stale" ] && [ -f web/dist/index.html ] \
  && [ -z "$(find web/src web/index.html web/vite.config.ts -newer web/dist/index.html -print -quit)" ]; then
  exit 0
fi
node_modules/.bin/vite build web --logLevel warn
