#!/usr/bin/env bash
# Builds kube-apiserver (or kube-controller-manager) from the Go module proxy, with no Docker
# and no release download, into ~/.cache/trayb-realtime/kube-apiserver/<version>/<component>
# and prints that path. The cache sits outside the work tree on purpose: every clone and
# worktree on a machine (and CI's fresh clone) shares one build. The version is the one the
# wrapper module in ./kubernetes requires; to move it, change that require and run this script
# with --sync-replaces so the staging replaces follow.
# Idempotent: a cached binary is reused, so only the first run on a machine pays the build.
#
# The node components (kubelet, kube-scheduler, kube-proxy, for the single-node cluster of
# ../cluster) are built together in one `go build`: asking for one builds all three, so the
# compile work they share is done once.
#
# Usage: build-kube-apiserver.sh [kube-apiserver|kube-controller-manager|kubelet|kube-scheduler|kube-proxy] | --sync-replaces
# Env:   GO (default: go on PATH, else /usr/local/go/bin/go), KUBE_APISERVER_CACHE (cache root),
#        BUILD_PARALLELISM (default 2: the machine is shared).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
module="$here/kubernetes"

go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$go_bin" ]] || { echo "build-kube-apiserver: Go toolchain not found (set GO=/path/to/go)" >&2; exit 1; }

version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$module/go.mod")"
[[ -n "$version" ]] || { echo "build-kube-apiserver: no k8s.io/kubernetes requirement in $module/go.mod" >&2; exit 1; }
# Staging modules are published as v0.<minor>.<patch> next to v1.<minor>.<patch>.
staging_version="v0.${version#v1.}"

component="${1:-kube-apiserver}"
case "$component" in
  --sync-replaces)
    # Every module upstream maps to ./staging gets its published version instead (replace
    # directives of a dependency do not apply to the module that requires it).
    mod_file="$("$go_bin" mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')"
    cd "$module"
    for staging in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$mod_file"); do
      "$go_bin" mod edit -replace "$staging=$staging@$staging_version"
    done
    GOFLAGS=-mod=mod "$go_bin" mod tidy
    exit 0
    ;;
  kube-apiserver | kube-controller-manager) together=("$component") ;;
  kubelet | kube-scheduler | kube-proxy) together=(kubelet kube-scheduler kube-proxy) ;;
  *) echo "build-kube-apiserver: unknown component '$component'" >&2; exit 2 ;;
esac

out_dir="${KUBE_APISERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trayb-realtime/kube-apiserver}/$version"
binary="$out_dir/$component"
if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi

mkdir -p "$out_dir"
# One build at a time per version: a second caller waits, then finds the binary.
exec 9>"$out_dir/.lock"
flock 9
if [[ ! -x "$binary" ]]; then
  minor="${version#v1.}"; minor="${minor%%.*}"
  pkg=k8s.io/component-base/version
  # What upstream's hack/lib/version.sh stamps, so /version and `kubectl version` tell the truth.
  ldflags="-s -w"
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
  echo "build-kube-apiserver: building ${together[*]} $version (the first build on a machine takes minutes)" >&2
  staging="$(mktemp -d "$out_dir/.build.XXXXXX")"
  (
    cd "$module"
    export GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS="${BUILD_PARALLELISM:-2}"
    "$go_bin" build -p "${BUILD_PARALLELISM:-2}" -trimpath -ldflags "$ldflags" -o "$staging/" "${together[@]/#/k8s.io/kubernetes/cmd/}"
  ) >&2
  for built in "${together[@]}"; do mv "$staging/$built" "$out_dir/$built"; done
  rmdir "$staging"
fi
echo "$binary"
