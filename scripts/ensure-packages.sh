#!/usr/bin/env bash
# Install, in one apt run, the system packages `make test` needs that are missing: Chromium for
# the browser tests, PostgreSQL and Redis for the services run. Idempotent: nothing to do when all
# are there. `make test` starts it in the background before the Python install and the type check
# (on a fresh CI machine the downloads then overlap them instead of following them);
# scripts/ensure-chromium.sh and scripts/with-services.sh still check for themselves.
set -euo pipefail

missing=()
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "ensure-packages: installing ${missing[*]}" >&2
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
