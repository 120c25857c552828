#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy (no Docker, no release download) into
# ~/.cache/trayb-realtime/kube-apiserver/<version>/kube-apiserver and prints that path. The
# cache sits outside the work tree on purpose: every clone and worktree on a machine (and CI's
# fresh clone) shares the one build. The version is the one
# the wrapper module in ./apiserver requires, so bumping it there is the only change needed
# (then run this script with --sync-replaces to move the staging replaces along).
# Idempotent: a cached binary is reused, so only the first run on a machine pays the build.
#
# Usage: build-kube-apiserver.sh [--sync-replaces]
# Env:   GO (default: go on PATH, else /usr/local/go/bin/go), KUBE_APISERVER_CACHE (cache root),
#        BUILD_PARALLELISM (default 2: the machine is shared).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
module="$here/apiserver"

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$go_bin" ]] || { echo "build-kube-apiserver: Go toolchain not found (set GO=/path/to/go)" >&2; exit 1; }

version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$module/go.mod")"
[[ -n "$version" ]] || { echo "build-kube-apiserver: no k8s.io/kubernetes requirement in $module/go.mod" >&2; exit 1; }
# Staging modules are published as v0.<minor>.<patch> next to v1.<minor>.<patch>.
staging_version="v0.${version#v1.}"

if [[ "${1:-}" == "--sync-replaces" ]]; then
  # Every module upstream maps to ./staging gets its published version instead.
  mod_file="$("$go_bin" mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
  cd "$module"
  for staging in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$mod_file"); do
    "$go_bin" mod edit -replace "$staging=$staging@$staging_version"
  done
  GOFLAGS=-mod=mod "$go_bin" mod tidy
  exit 0
fi

out_dir="${KUBE_APISERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trayb-realtime/kube-apiserver}/$version"
binary="$out_dir/kube-apiserver"
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

mkdir -p "$out_dir"
# One build at a time per version: a second caller waits and then finds the binary.
exec 9>"$out_dir/.lock"
flock 9
if [[ ! -x "$binary" ]]; then
  minor="${version#v1.}"; minor="${minor%%.*}"
  pkg=k8s.io/component-base/version
  ldflags="-s -w"
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
  echo "build-kube-apiserver: building kube-apiserver $version (first run on this machine takes a while)" >&2
  (
    cd "$module"
    export GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS="${BUILD_PARALLELISM:-2}"
    "$go_bin" build -p "${BUILD_PARALLELISM:-2}" -trimpath -ldflags "$ldflags" -o "$binary.tmp" .
  ) >&2
  mv "$binary.tmp" "$binary"
fi
echo "$binary"
