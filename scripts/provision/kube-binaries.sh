#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries and etcd from Go modules, once per version.
# No Docker and no release downloads exist on the project's machines, so the test environment's
# control plane is compiled from the module proxy. k8s.io/kubernetes replaces its k8s.io/* staging
# modules with local folders, so `go install …@version` fails; a throwaway wrapper module that pins
# every staging module to the matching v0.MINOR.PATCH release is the way around that.
#
# Output: $QUEUESHIFT_CACHE/kube-<version>/bin/{etcd,kube-apiserver,kube-controller-manager,
# kube-scheduler,kubectl}. Prints that bin folder on stdout; progress goes to stderr.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE_ROOT="${QUEUESHIFT_CACHE:-$HOME/.cache/queueshift}"
OUT="$CACHE_ROOT/kube-$KUBE_VERSION"
BIN="$OUT/bin"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

have_all() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || return 1; done
}

if have_all; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "kube-binaries: 'go' is not on PATH; install Go >= 1.24" >&2; exit 1; }
mkdir -p "$BIN"
# Serialise concurrent builds (two test tiers starting at once would otherwise build twice).
exec 9>"$OUT/.lock"
flock 9
if have_all; then echo "$BIN"; exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0

log() { echo "kube-binaries: $*" >&2; }

if [[ ! -x "$BIN/etcd" ]]; then
  log "building etcd $ETCD_VERSION"
  mkdir -p "$work/etcd"
  (
    cd "$work/etcd"
    go mod init queueshift.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
    go build -trimpath -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$BIN/etcd.tmp" "$BIN/etcd"
fi

log "building Kubernetes $KUBE_VERSION (10-20 minutes cold on 2 cores)"
mkdir -p "$work/kube"
cd "$work/kube"
upstream_mod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')"
[[ -f "$upstream_mod" ]] || { log "could not download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
minor_patch="${KUBE_VERSION#v1.}"
go_line="$(grep -m1 '^go ' "$upstream_mod")"
{
  echo "module queueshift.local/kube-build"
  echo
  echo "$go_line"
  grep -m1 '^godebug ' "$upstream_mod" || true
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  # Every staging module the upstream go.mod requires at v0.0.0 gets its published twin.
  grep -E '^\s+k8s\.io/[^ ]+ v0\.0\.0$' "$upstream_mod" | awk -v v="v0.$minor_patch" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
go mod tidy -e >&2 2>&1 | tail -5 >&2 || true

major="1"
minor="${minor_patch%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "-s -w$ldflags" -o "$work/out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl >&2
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  mv "$work/out/$b" "$BIN/$b"
done
log "done: $BIN"
echo "$BIN"
