#!/usr/bin/env bash
# Runs a command with Node >= 22.18 first on PATH and the project's packages installed, so that
# every npm script works from a fresh clone on a machine whose own Node is older.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_bin="$(bash "$root/scripts/provision/node.sh")"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
# npm ci only when the lock file changed since the last install.
stamp="$root/node_modules/.queueshift-lock"
if [[ ! -f "$stamp" ]] || ! cmp -s "$root/package-lock.json" "$stamp"; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$root/package-lock.json" "$stamp"
fi
exec "$@"
