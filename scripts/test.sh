#!/usr/bin/env bash
# The project's test command (`npm test`): provisions everything the tests need, checks lint,
# format, types and the build, then runs the tiers one after another (the machines have 2 cores),
# each with its own time budget, against one environment of real servers on loopback.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

node_bin="$(bash scripts/provision/all.sh)"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

step "lint, format, types, shell scripts"
eslint .
prettier --check .
tsc -p tsconfig.json --noEmit
shellcheck scripts/*.sh scripts/provision/*.sh scripts/image/*.sh scripts/demo/*.sh scripts/kind/*.sh bin/kubectl-queueshift .ci/run
step "build"
tsc -p tsconfig.build.json

results="$root/.queueshift/test-results"
# Runs under load write their reports (sent, accepted, handled, lost, handled twice, stages) here.
reports="$root/.queueshift/reports"
rm -rf "$results" "$reports"
mkdir -p "$results"

# tier <name> <budget-seconds>
tier() {
  step "$1 tests (budget $2 s)"
  timeout --signal=TERM --kill-after=30 "$2" \
    vitest run --project "$1" --reporter=default --reporter=json --outputFile.json="$results/$1.json"
}

status=0
tier unit 300 || status=$?
if [[ $status -eq 0 ]]; then
  step "starting the test environment"
  node test/env/cli.ts up
  trap 'node test/env/cli.ts down' EXIT
  # No Docker engine on these machines: the Dockerfile's build and run steps are checked through
  # the script its RUN lines call, as the image's non-root user.
  step "image check (the Dockerfile's build, run as uid 65532)"
  timeout --signal=TERM --kill-after=30 900 bash scripts/image/check.sh || status=$?
  [[ $status -eq 0 ]] && { tier integration 1200 || status=$?; }
  [[ $status -eq 0 ]] && { tier e2e 2700 || status=$?; }
  # Last and alone: these scenarios stop, freeze and restart the shared servers.
  [[ $status -eq 0 ]] && { tier faults 1200 || status=$?; }
fi
if compgen -G "$reports/*.txt" >/dev/null; then
  step "reports of the runs under load"
  cat "$reports"/*.txt
fi
node scripts/test-summary.ts "$results" || true
exit "$status"
