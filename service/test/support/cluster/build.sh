#!/usr/bin/env bash
# Builds what the test cluster (./up.sh) runs, from the registries this machine reaches, and
# caches it per version outside the work tree (~/.cache/trayb-realtime/cluster, like the
# kube-apiserver build): every clone and CI's fresh clone on a machine shares one build.
#
#   build.sh tools        kubelet, kube-scheduler, kube-proxy (../kube/build-kube-apiserver.sh),
#                         containerd 2.x (./containerd) and CoreDNS (./coredns) from the Go module proxy
#   build.sh base-images  the images the bundle and the Dockerfile name, none of which can be
#                         pulled here: a Debian root filesystem (debootstrap) turned into the
#                         node:<version>-<suite>-slim the Dockerfile starts FROM (the Node binary of
#                         the `node` devDependency, npm from the npm registry), a redis image
#                         under the name the StatefulSet uses (Debian's redis-server: only the name
#                         matches upstream's), and the pause image (upstream's pause.c, static)
#   build.sh app-image TAR   the real Dockerfile with podman (--pull=never), saved to TAR
#
# Each prints name=path lines for ./up.sh. Env: GO, CLUSTER_CACHE (cache root), BUILD_PARALLELISM.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
cache="${CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trayb-realtime/cluster}"
go_bin="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
jobs="${BUILD_PARALLELISM:-2}"
# The npm the node stand-in carries for the Dockerfile's deps and build stages (the runtime
# stage deletes it, as it deletes the official image's).
npm_version=11.19.1
# podman's default ulimits exceed this VM's hard limits (nofile 20000) and fail with EPERM;
# crun refuses cgroup v1 hybrid mode, so runc everywhere.
podman_build=(podman build --pull=never --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=20000:20000)

say() { echo "cluster-build: $*" >&2; }

# go_tools NAME MODULE_DIR VERSION PACKAGE... : one `go build` of PACKAGEs into the cache.
go_tools() {
  local name=$1 module=$2 version=$3
  shift 3
  local out="$cache/$name/$version"
  local missing=0
  for pkg in "$@"; do [[ -x "$out/${pkg##*/}" ]] || missing=1; done
  if ((missing)); then
    mkdir -p "$out"
    exec 8>"$out/.lock"
    flock 8
    say "building $name $version (the first build on a machine takes minutes)"
    local staging
    staging="$(mktemp -d "$out/.build.XXXXXX")"
    (
      cd "$module"
      export GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS="$jobs"
      "$go_bin" build -p "$jobs" -trimpath -tags no_btrfs -ldflags "-s -w ${LDFLAGS_EXTRA:-}" -o "$staging/" "$@"
    ) >&2
    for pkg in "$@"; do mv "$staging/${pkg##*/}" "$out/${pkg##*/}"; done
    rmdir "$staging"
    exec 8>&-
  fi
  for pkg in "$@"; do echo "${pkg##*/}=$out/${pkg##*/}"; done
}

required_version() { awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"; }

tools() {
  for component in kubelet kube-apiserver kube-controller-manager; do
    echo "$component=$(bash "$here/../kube/build-kube-apiserver.sh" "$component")"
  done
  local kube_dir
  kube_dir="$(dirname "$(bash "$here/../kube/build-kube-apiserver.sh" kubelet)")"
  echo "kube-scheduler=$kube_dir/kube-scheduler"
  echo "kube-proxy=$kube_dir/kube-proxy"
  local containerd_version coredns_version
  containerd_version="$(required_version "$here/containerd" github.com/containerd/containerd/v2)"
  LDFLAGS_EXTRA="-X github.com/containerd/containerd/v2/version.Version=$containerd_version" \
    go_tools containerd "$here/containerd" "$containerd_version" \
    github.com/containerd/containerd/v2/cmd/containerd \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr
  coredns_version="$(required_version "$here/coredns" github.com/coredns/coredns)"
  go_tools coredns "$here/coredns" "$coredns_version" trayb-realtime/test/coredns
}

# The image names the repo itself uses, so a bump there is a rebuild here.
node_image() { awk 'toupper($1) == "FROM" && $2 ~ /^node:/ { print $2; exit }' "$repo/Dockerfile"; }
redis_image() { awk '$1 == "image:" && $2 ~ /^redis:/ { print $2; exit }' "$repo/k8s/base/redis/statefulset.yaml"; }
# upstream's pause source and its release tag, from the k8s.io/kubernetes module the cluster runs
pause_source() { echo "$(cd "$here/../kube/kubernetes" && GOFLAGS=-mod=mod "$go_bin" list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause"; }

# load_or_build TAR IMAGE COMMAND... : IMAGE in podman's store, from the cached TAR or built.
load_or_build() {
  local tar=$1 image=$2
  shift 2
  if podman image exists "$image"; then
    [[ -f "$tar" ]] || podman save --format docker-archive -o "$tar" "$image" >&2
  elif [[ -f "$tar" ]]; then
    podman load -i "$tar" >&2
  else
    "$@" >&2
    podman save --format docker-archive -o "$tar" "$image" >&2
  fi
}

base_images() {
  local node redis pause_dir pause node_version suite key out
  node="$(node_image)"
  redis="$(redis_image)"
  [[ -n "$node" && -n "$redis" ]] || { say "no node:* FROM in the Dockerfile or no redis:* image in k8s/base/redis"; exit 1; }
  node_version="${node#node:}"; node_version="${node_version%%-*}"
  suite="${node#node:*-}"; suite="${suite%-slim}"
  local node_bin="$repo/node_modules/node/bin/node"
  [[ "$("$node_bin" --version)" == "v$node_version" ]] || {
    say "the Dockerfile starts FROM $node but node_modules/node is $("$node_bin" --version): bump them together"
    exit 1
  }
  pause_dir="$(pause_source)"
  pause="registry.k8s.io/pause:$(awk -F'[?]= *' '$1 ~ /^TAG *$/ { print $2; exit }' "$pause_dir/Makefile")"
  key="$( (echo "$node $redis $pause $npm_version $suite"; cat "$here"/images/*/*) | sha256sum | cut -c1-16)"
  out="$cache/images/$key"
  mkdir -p "$out"
  exec 8>"$out/.lock"
  flock 8

  local debian="localhost/trayb-stand-in/debian:$suite-slim"
  if ! podman image exists "$debian" && ! [[ -f "$out/node.tar" && -f "$out/redis.tar" ]]; then
    if [[ ! -f "$cache/images/debian-$suite.tar" ]]; then
      say "debootstrap $suite (minbase)"
      local rootfs
      rootfs="$(mktemp -d)"
      debootstrap --variant=minbase "$suite" "$rootfs" http://deb.debian.org/debian >&2
      # as the slim images: no package cache, no lists
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      tar -C "$rootfs" -cf "$cache/images/debian-$suite.tar.tmp" .
      rm -rf "$rootfs"
      mv "$cache/images/debian-$suite.tar.tmp" "$cache/images/debian-$suite.tar"
    fi
    podman import --change 'CMD ["bash"]' "$cache/images/debian-$suite.tar" "$debian" >&2
  fi

  local context
  context="$(mktemp -d)"
  cp -r "$here/images/." "$context/"
  cp "$node_bin" "$context/node/node"
  (cd "$context/node" && npm pack --silent "npm@$npm_version" >/dev/null)
  load_or_build "$out/node.tar" "docker.io/library/$node" \
    "${podman_build[@]}" --build-arg "BASE=$debian" --build-arg "NPM=npm-$npm_version.tgz" -t "docker.io/library/$node" "$context/node"
  load_or_build "$out/redis.tar" "docker.io/library/$redis" \
    "${podman_build[@]}" --network host --build-arg "BASE=$debian" -t "docker.io/library/$redis" "$context/redis"
  gcc -Os -Wall -Werror -static -DVERSION="v${pause##*:}" -o "$context/pause/pause" "$pause_dir/linux/pause.c"
  load_or_build "$out/pause.tar" "$pause" "${podman_build[@]}" -t "$pause" "$context/pause"
  rm -rf "$context"
  echo "node-image=$out/node.tar"
  echo "redis-image=$out/redis.tar"
  echo "pause-image=$out/pause.tar"
  echo "sandbox-image=$pause"
}

# The Dockerfile as it is, with its own npm ci steps. This machine reaches the npm registry
# through a TLS-inspecting CA (NODE_EXTRA_CA_CERTS); the build steps get it through /root,
# which the base image already has, so no mount point is left behind in any layer.
app_image() {
  local tar=$1 tag home
  tag="$(awk '$1 == "newName:" { name = $2 } $1 == "newTag:" { print name ":" $2; exit }' "$repo/k8s/base/kustomization.yaml")"
  home="$(mktemp -d)"
  if [[ -n "${NODE_EXTRA_CA_CERTS:-}" ]]; then
    cp "$NODE_EXTRA_CA_CERTS" "$home/machine-ca.crt"
    echo "cafile=/root/machine-ca.crt" >"$home/.npmrc"
  fi
  "${podman_build[@]}" --network host -v "$home:/root" -t "$tag" "$repo" >&2
  rm -rf "$home"
  podman save --format docker-archive -o "$tar" "$tag" >&2
  echo "app-image=$tar"
}

case "${1:-}" in
  tools) tools ;;
  base-images) base_images ;;
  app-image) app_image "${2:?usage: build.sh app-image TAR}" ;;
  *) echo "usage: build.sh tools | base-images | app-image TAR" >&2; exit 2 ;;
esac
