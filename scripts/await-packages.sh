#!/usr/bin/env bash
# Wait for the background run of scripts/ensure-packages.sh that `make test` started (it writes
# its exit status to $1.rc and its output to $1.log); fail with its output if it failed.
set -euo pipefail
base=$1
for _ in $(seq 3600); do
  [ -s "$base.rc" ] && break
  sleep 0.5
done
status=$(cat "$base.rc" 2>/dev/null || echo "timed out")
if [ "$status" != 0 ]; then
  echo "ensure-packages failed ($status):" >&2
  cat "$base.log" >&2 || true
  exit 1
fi
cat "$base.log" >&2
rm -f "$base.rc" "$base.log"
