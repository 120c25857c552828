#!/usr/bin/env bash
# Undoes ./up.sh STATE_DIR: stops every process it started by the PID it recorded (the pods'
# containers first, through their kubelets, so the shims exit and clean up), then removes the
# mounts under STATE_DIR, the cgroups and the network namespace (with its bridges and iptables
# rules), and finally STATE_DIR itself unless KEEP_CLUSTER_STATE=1. Safe to run twice.
# Prints what it could not remove; exits 1 if anything is left.
set -uo pipefail

S="$(cd "$1" 2>/dev/null && pwd)" || exit 0
[[ -f "$S/id" ]] || exit 0
id="$(cat "$S/id")"
ns="$id"
say() { echo "cluster-down: $*" >&2; }

stop_pid() { # PID [GRACE_TENTHS]
  local pid=$1 tries=${2:-100}
  kill -TERM "$pid" 2>/dev/null || return 0
  while ((tries-- > 0)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
stop() { [[ -f "$S/pids/$1" ]] && stop_pid "$(cat "$S/pids/$1")" "${2:-100}"; rm -f "$S/pids/$1"; }

# Nothing may recreate or reschedule what is stopped next; the kubelets stop the pods while
# the apiserver still runs, so the runtime tears each one down the normal way.
stop kube-controller-manager
stop kube-scheduler
if [[ -f "$S/cluster.env" && -f "$S/pids/kube-apiserver" ]] && kill -0 "$(cat "$S/pids/kube-apiserver")" 2>/dev/null; then
  nsenter --net="/run/netns/$ns" kubectl --kubeconfig "$S/pki/admin.kubeconfig" delete pods --all --all-namespaces \
    --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1
fi
stop kube-proxy
stop coredns
for kubelet in "$S"/pids/*-kubelet; do [[ -f $kubelet ]] && stop "$(basename "$kubelet")"; done
# Whatever containers remain (a kubelet that died first), by the PIDs containerd recorded.
for pidfile in $(find "$S" -path '*/containerd/state/*' -name init.pid 2>/dev/null); do kill -KILL "$(cat "$pidfile")" 2>/dev/null; done
for pidfile in $(find "$S" -path '*/containerd/state/*' -name shim.pid 2>/dev/null); do stop_pid "$(cat "$pidfile")" 30; done
for containerd in "$S"/pids/*-containerd; do [[ -f $containerd ]] && stop "$(basename "$containerd")"; done
stop kube-apiserver
stop etcd

findmnt -rn -o TARGET | grep "^$S/" | sort -r | while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
for cgroup in /sys/fs/cgroup/*/"$id"-*; do
  [[ -d $cgroup ]] && find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null
done
ip netns del "$ns" 2>/dev/null
if [[ -f "$S/made-run-containerd" ]]; then
  rmdir /run/containerd/s /run/containerd 2>/dev/null
fi

left=()
for pidfile in "$S"/pids/*; do [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && left+=("process $(basename "$pidfile")"); done
while read -r mount; do left+=("mount $mount"); done < <(findmnt -rn -o TARGET | grep "^$S/")
for cgroup in /sys/fs/cgroup/*/"$id"-*; do [[ -d $cgroup ]] && left+=("cgroup $cgroup"); done
ip netns list | grep -qw "$ns" && left+=("netns $ns")
if ((${#left[@]})); then
  say "left behind: ${left[*]}"
  exit 1
fi
[[ "${KEEP_CLUSTER_STATE:-}" == 1 ]] || rm -rf "$S"
