#!/usr/bin/env bash
# The kind path: a local cluster with queueshift, the sample pipeline and its QueueMigration, from
# the manifests the tests apply (config/default and config/samples, through the overlays next to
# this script, which put a Redis and an SQS emulator in the cluster instead of AWS). Needs docker,
# kind and kubectl; KIND_CLUSTER names the cluster (default queueshift). Run it again to rebuild.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/scripts/kind"
cluster=${KIND_CLUSTER:-queueshift}
namespace=github-webhooks

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool is required" >&2; exit 2; }
done
kind get clusters | grep -qx "$cluster" || kind create cluster --name "$cluster"
k() { kubectl --context "kind-$cluster" "$@"; }

# The images the manifests name, each built from its Dockerfile target: ghcr.io/queueshift/queueshift-<target>:<tag>.
images=$({ k kustomize "$here/operator"; k kustomize "$here/pipeline"; } |
  sed -n 's|^ *image: \(ghcr.io/queueshift/queueshift-.*\)$|\1|p' | sort -u)
for image in $images; do
  target=${image#ghcr.io/queueshift/queueshift-}
  docker build --target "${target%%:*}" -t "$image" "$root"
  kind load docker-image --name "$cluster" "$image"
done

# The CRD first: a QueueMigration can be applied only once its kind is established.
k apply --server-side -k "$root/config/crd"
k wait --for=condition=Established crd/queuemigrations.queueshift.dev --timeout=60s
k apply -k "$here/operator"
k rollout status deployment/queueshift-operator -n queueshift-system --timeout=180s

k create namespace "$namespace" --dry-run=client -o yaml | k apply -f -
if ! k get secret github-webhook -n "$namespace" >/dev/null 2>&1; then
  k create secret generic github-webhook -n "$namespace" \
    --from-literal=secret="$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
k apply -k "$here/pipeline"

cat <<EOF
queueshift runs in the kind cluster '$cluster'; the migration 'github-webhooks' starts once the
pipeline is ready (staging waits for an approval). Watch it:
  kubectl --context kind-$cluster -n $namespace get qm github-webhooks -o wide -w
  kubectl queueshift status github-webhooks -n $namespace --context kind-$cluster
  kubectl queueshift promote github-webhooks -n $namespace --context kind-$cluster
Send it deliveries signed with the secret in Secret $namespace/github-webhook:
  kubectl --context kind-$cluster -n $namespace port-forward service/webhook 8080:80
Remove it all: kind delete cluster --name $cluster
EOF
