#!/usr/bin/env bash
# Make sure the browser tests (tests/browser/) have Chromium: the distribution's package, at
# /usr/bin/chromium, driven by Playwright's Python driver. Idempotent: installs only when missing
# (CI starts from nothing, as root, on Debian). Never `playwright install`: browsers come from
# the distribution, not from a download of Playwright's own builds.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
echo "ensure-chromium: installing chromium" >&2
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"
$sudo_cmd apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "ensure-chromium: $CHROMIUM still missing" >&2; exit 1; }
