#!/usr/bin/env bash
# Installs the Debian packages the test environment runs (servers and tools), only when missing.
set -euo pipefail

# command -> package
declare -A NEEDED=(
  [redis-server]=redis-server
  [redis-sentinel]=redis-sentinel
  [redis-cli]=redis-tools
  [prometheus]=prometheus
  [promtool]=prometheus
  [openssl]=openssl
  [unshare]=util-linux
  [flock]=util-linux
  [setpriv]=util-linux
  [curl]=curl
  [shellcheck]=shellcheck
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${NEEDED[$cmd]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "packages.sh: installing ${missing[*]}" >&2
SUDO=""
[[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
