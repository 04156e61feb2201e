#!/usr/bin/env bash
# Generates a SQL migration in db/migrations from the Drizzle tables (src/db/schema.ts).
# Serialised with flock so that two people (or agents) generating at once cannot interleave.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/pictor-drizzle-kit.lock
flock 9
npx drizzle-kit generate --config db/drizzle.config.ts "$@"
