#!/usr/bin/env bash
# `npm run demo [-- --rollback] [-- --rate N]`: provisions what the environment needs as `npm test` does
# (scripts/provision/all.sh: Debian packages, Node 22 and npm packages, the Kubernetes binaries),
# starts the environment or reuses a running one, builds dist/ (the pods run it), then hands over
# to scripts/demo/demo.ts. The environment stays up afterwards: `npm run env:down` stops it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

step() { printf '==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
refuse() {
  echo "demo: $*" >&2
  exit 1
}

# What a fresh machine must bring itself; everything else the scripts install.
command -v git >/dev/null || refuse "git is missing: install git (the project is a git checkout)"
if ! command -v go >/dev/null; then
  refuse "Go is missing: install Go >= 1.24 (the first run builds the Kubernetes binaries from Go modules)"
fi
go_version="$(go env GOVERSION)"
go_minor="${go_version#go1.}"
go_minor="${go_minor%%.*}"
if [[ "$go_version" != go1.* || ! "$go_minor" =~ ^[0-9]+$ ]] || ((go_minor < 24)); then
  refuse "Go $go_version is too old: install Go >= 1.24"
fi

node_bin="$(bash scripts/provision/all.sh)"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
step "starting the environment (or reusing the running one)"
node test/env/cli.ts up >/dev/null
step "building dist/ (the webhook and worker pods run it)"
tsc -p tsconfig.build.json
exec node scripts/demo/demo.ts "$@"
