#!/usr/bin/env bash
# Everything the environment needs, in order, each step only when missing: Debian packages, Node 22
# and the npm packages, the Kubernetes binaries. Progress goes to stderr; the last line on stdout
# is the folder of the Node binary, for the caller's PATH. Used by `npm test` and `npm run demo`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

step "provisioning Debian packages"
bash scripts/provision/packages.sh >&2
step "provisioning Node.js and npm packages"
node_bin="$(bash scripts/provision/node.sh)"
bash scripts/with-node.sh node --version >&2
step "provisioning the Kubernetes control plane binaries (cached in ${QUEUESHIFT_CACHE:-$HOME/.cache/queueshift})"
bash scripts/provision/kube-binaries.sh >/dev/null
echo "$node_bin"
