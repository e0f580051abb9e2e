#!/usr/bin/env bash
# Builds the application the images run, into TARGET:
#   TARGET/package.json, TARGET/node_modules (production dependencies only, exactly as locked),
#   TARGET/dist/cli/main.js (the compiled CLI: `node dist/cli/main.js operator|webhook|worker`).
# The compiler is a devDependency, so compiling happens in a scratch folder with every dependency,
# and only its output reaches TARGET. The Dockerfile's build stage and scripts/image/check.sh (CI)
# both run this script, so what CI starts is what the images contain.
#
# usage: build.sh SOURCE TARGET   (SOURCE: a checkout; TARGET: created, must not exist or be empty)
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: build.sh SOURCE TARGET"
source_dir="$(cd "$1" && pwd)" || die "SOURCE $1 is not a folder"
target="$2"
for tool in node npm; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
[[ -f "$source_dir/package-lock.json" ]] || die "$source_dir has no package-lock.json: installs come from the lock only"
if [[ -e "$target" && -n "$(ls -A "$target")" ]]; then die "TARGET $target is not empty"; fi
mkdir -p "$target"
target="$(cd "$target" && pwd)"

# Install scripts never run: no dependency needs one, and an image build must not execute code
# fetched from the registry.
npm_ci() { npm ci --ignore-scripts --no-audit --no-fund --loglevel=error "$@"; }

scratch="$(mktemp -d "${TMPDIR:-/tmp}/queueshift-compile.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

echo "build.sh: compiling $source_dir/src (Node $(node --version))" >&2
mkdir -p "$scratch/scripts/image"
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$source_dir/tsconfig.json" "$scratch/"
cp "$source_dir/scripts/image/tsconfig.image.json" "$scratch/scripts/image/"
cp -R "$source_dir/src" "$scratch/src"
(cd "$scratch" && npm_ci && node_modules/.bin/tsc -p scripts/image/tsconfig.image.json --outDir "$target/dist")

echo "build.sh: installing production dependencies into $target" >&2
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$target/"
(cd "$target" && npm_ci --omit=dev)
[[ -f "$target/dist/cli/main.js" ]] || die "the build produced no $target/dist/cli/main.js"
echo "build.sh: built $target" >&2
