#!/usr/bin/env bash
# Starts a two-node Kubernetes cluster on this machine, the kind cluster of projects that
# have Docker, from parts that are here: etcd (Debian), kube-apiserver,
# kube-controller-manager, kube-scheduler, and per node a kubelet with its own containerd 2.x
# (runc, Debian's CNI bridge plugin), one kube-proxy (iptables) and CoreDNS, built by
# ./build.sh. Two nodes so `kubectl drain` has somewhere to move pods to.
#
# Everything runs inside one network namespace of its own (lo plus one bridge per node, no
# route out), so no packet of the cluster can leave the machine, and its iptables rules die
# with it. Images: the stand-ins and the Dockerfile's image from ./build.sh, imported into
# each node's containerd; the Redis volume is a hostPath PersistentVolume, as kind's
# local-path provisioner would make.
#
# Usage: up.sh STATE_DIR   (empty or missing; ./down.sh STATE_DIR undoes everything)
# Writes STATE_DIR/cluster.env: NETNS, KUBECONFIG, NODES, LOGS. Logs in STATE_DIR/logs.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
S="$(mkdir -p "$1" && cd "$1" && pwd)"
id="trayb-k8s-$(basename "$S" | tr -dc 'a-zA-Z0-9' | tail -c 8)"
ns="$id"
svc_cidr=10.96.0.0/24
svc_ip=10.96.0.1
nodes=(trayb-node-1 trayb-node-2)
node_ip() { echo "10.244.$1.1"; }
cp_ip="$(node_ip 0)"

mkdir -p "$S"/{logs,pids,pki}
echo "$id" >"$S/id"
# containerd 2 keeps its shims' sockets in /run/containerd/s whatever its state dir is
[[ -d /run/containerd ]] || touch "$S/made-run-containerd"
say() { echo "cluster-up: $*" >&2; }
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
# start NAME COMMAND...: in the namespace, logging to logs/NAME.log; pids/NAME holds the
# component's own PID (exec, so down.sh stops exactly it).
start() {
  local name=$1
  shift
  (exec nsenter --net="/run/netns/$ns" "$@") >"$S/logs/$name.log" 2>&1 &
  echo $! >"$S/pids/$name"
}
wait_for() {
  local what=$1 deadline=$((SECONDS + 120))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { say "$what not ready in 120 s; its log:"; tail -20 "$S/logs/$what.log" >&2; exit 1; }
    sleep 0.3
  done
}

declare -A bin
while IFS='=' read -r name path; do bin[$name]=$path; done < <(bash "$here/build.sh" tools)
while IFS='=' read -r name path; do bin[$name]=$path; done < <(bash "$here/build.sh" base-images)
bash "$here/build.sh" app-image "$S/app-image.tar" >/dev/null
say "binaries and images ready after ${SECONDS} s"

# --- the namespace: one bridge per node; ClusterIPs routed to the first bridge, where
# kube-proxy's rules rewrite them.
ip netns add "$ns"
in_ns ip link set lo up
for i in "${!nodes[@]}"; do
  in_ns ip link add "cni$i" type bridge
  in_ns ip addr add "$(node_ip "$i")/24" dev "cni$i"
  in_ns ip link set "cni$i" up
done
in_ns ip route add "$svc_cidr" dev cni0 src "$cp_ip"
in_ns sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.ipv4.conf.all.route_localnet=1

# --- credentials: one CA; a client certificate per component, named as the default RBAC expects
P="$S/pki"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2)
openssl req -x509 "${ec[@]}" -keyout "$P/ca.key" -out "$P/ca.crt" -subj /CN=trayb-cluster-ca \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
leaf() { # NAME SUBJECT EKU [SAN]
  local extra=(-addext basicConstraints=critical,CA:FALSE -addext "extendedKeyUsage=$3")
  [[ -n "${4:-}" ]] && extra+=(-addext "subjectAltName=$4")
  openssl req -x509 "${ec[@]}" -keyout "$P/$1.key" -out "$P/$1.crt" -subj "$2" -CA "$P/ca.crt" -CAkey "$P/ca.key" "${extra[@]}" 2>/dev/null
}
kubeconfig() { # NAME
  cat >"$P/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: trayb, cluster: {server: "https://$cp_ip:6443", certificate-authority-data: $(base64 -w0 "$P/ca.crt")}}]
users: [{name: $1, user: {client-certificate-data: $(base64 -w0 "$P/$1.crt"), client-key-data: $(base64 -w0 "$P/$1.key")}}]
contexts: [{name: trayb, context: {cluster: trayb, user: $1}}]
current-context: trayb
EOF
}
leaf apiserver /CN=kube-apiserver serverAuth \
  "IP:$cp_ip,IP:$svc_ip,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
leaf apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client clientAuth
for who in admin:/O=system:masters/CN=trayb-cluster-admin scheduler:/CN=system:kube-scheduler \
  controller-manager:/CN=system:kube-controller-manager kube-proxy:/CN=system:kube-proxy; do
  leaf "${who%%:*}" "${who#*:}" clientAuth
  kubeconfig "${who%%:*}"
done
for i in "${!nodes[@]}"; do
  leaf "${nodes[$i]}" "/O=system:nodes/CN=system:node:${nodes[$i]}" clientAuth
  kubeconfig "${nodes[$i]}"
  leaf "${nodes[$i]}-serving" "/CN=${nodes[$i]}" serverAuth "IP:$(node_ip "$i"),DNS:${nodes[$i]}"
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$P/sa.key" 2>/dev/null
openssl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub"

# --- control plane
start etcd "${ETCD_BIN:-etcd}" --name trayb --data-dir "$S/etcd" --log-level warn \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster trayb=http://127.0.0.1:2380
wait_for etcd in_ns curl -sf http://127.0.0.1:2379/health
start kube-apiserver "${bin[kube-apiserver]}" --etcd-servers=http://127.0.0.1:2379 \
  --bind-address="$cp_ip" --advertise-address="$cp_ip" --secure-port=6443 --cert-dir="$S/apiserver" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" --client-ca-file="$P/ca.crt" \
  --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$P/ca.crt" --kubelet-preferred-address-types=InternalIP \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --anonymous-auth=false \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$svc_cidr" --allow-privileged=true --v=1
wait_for kube-apiserver in_ns curl -sf --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "https://$cp_ip:6443/readyz"
say "kube-apiserver ready after ${SECONDS} s"
start kube-controller-manager "${bin[kube-controller-manager]}" --kubeconfig="$P/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$P/controller-manager.kubeconfig" --authorization-kubeconfig="$P/controller-manager.kubeconfig" \
  --leader-elect=false --use-service-account-credentials=true --controllers='*' \
  --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
  --bind-address=127.0.0.1 --secure-port=10257 --v=1
start kube-scheduler "${bin[kube-scheduler]}" --kubeconfig="$P/scheduler.kubeconfig" \
  --authentication-kubeconfig="$P/scheduler.kubeconfig" --authorization-kubeconfig="$P/scheduler.kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port=10259 --v=1

# --- nodes
: >"$S/resolv.conf" # pods with dnsPolicy Default get no nameserver: nothing outside to ask
for i in "${!nodes[@]}"; do
  node="${nodes[$i]}" ip="$(node_ip "$i")" d="$S/$node"
  mkdir -p "$d/cni/net.d"
  cat >"$d/containerd.toml" <<EOF
version = 3
root = '$d/containerd/root'
state = '$d/containerd/state'
disabled_plugins = ['io.containerd.nri.v1.nri', 'io.containerd.internal.v1.tracing']
[grpc]
  address = '$d/containerd.sock'
[ttrpc]
  address = '$d/containerd.sock.ttrpc'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = '${bin[sandbox-image]}'
[plugins.'io.containerd.cri.v1.runtime']
  netns_mounts_under_state_dir = true
  # Lowering a process's oom_score_adj needs CAP_SYS_RESOURCE, which root lacks on this VM:
  # the pause container's -998 made every sandbox fail ("runc create failed: unable to
  # start container process: can't get final child's PID from pipe: EOF").
  restrict_oom_score_adj = true
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = '$(command -v runc)'
  Root = '$d/runc'
  SystemdCgroup = false
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/usr/lib/cni']
  conf_dir = '$d/cni/net.d'
EOF
  cat >"$d/cni/net.d/10-bridge.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "trayb", "plugins": [
  {"type": "bridge", "bridge": "cni$i", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$d/cni/ipam", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "10.244.$i.0/24", "gateway": "$ip"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  PATH="$(dirname "${bin[containerd]}"):$PATH" start "$node-containerd" "${bin[containerd]}" --config "$d/containerd.toml"
  wait_for "$node-containerd" test -S "$d/containerd.sock"
  for image in "$S/app-image.tar" "${bin[redis-image]}" "${bin[pause-image]}"; do
    "${bin[ctr]}" --address "$d/containerd.sock" -n k8s.io images import "$image" >/dev/null 2>>"$S/logs/images.log"
  done

  # cgroup v1 (hybrid) here: from 1.35 the kubelet refuses it unless failCgroupV1 is false.
  cgroup_root="/$id-$node"
  for hierarchy in /sys/fs/cgroup/*/; do
    [[ $hierarchy == */unified/ ]] || mkdir -p "$hierarchy${cgroup_root#/}"
  done
  cat >"$d/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
containerRuntimeEndpoint: unix://$d/containerd.sock
address: $ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $((10300 + i))
tlsCertFile: $P/$node-serving.crt
tlsPrivateKeyFile: $P/$node-serving.key
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $P/ca.crt}}
authorization: {mode: Webhook}
clusterDNS: [$cp_ip]
clusterDomain: cluster.local
resolvConf: $S/resolv.conf
podLogsDir: $d/pod-logs
failSwapOn: false
# The images cannot be pulled again: never collect them, and evict only on a really full disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
EOF
  start "$node-kubelet" "${bin[kubelet]}" --config="$d/kubelet.yaml" --kubeconfig="$P/$node.kubeconfig" \
    --hostname-override="$node" --node-ip="$ip" --root-dir="$d/kubelet" --v=1
done

cat >"$S/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $P/kube-proxy.kubeconfig}
hostnameOverride: ${nodes[0]}
clusterCIDR: 10.244.0.0/16
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# a network namespace cannot change the host-wide conntrack table size
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy "${bin[kube-proxy]}" --config="$S/kube-proxy.yaml" --v=1

# Service DNS on the first node's address (every kubelet's clusterDNS).
cat >"$S/Corefile" <<EOF
.:53 {
    bind $cp_ip
    errors
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $P/admin.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
EOF
start coredns "${bin[coredns]}" -conf "$S/Corefile"
wait_for coredns in_ns curl -sf http://127.0.0.1:8181/ready

k() { in_ns kubectl --kubeconfig "$P/admin.kubeconfig" "$@"; }
wait_for nodes k wait --for=condition=Ready "${nodes[@]/#/node/}" --timeout=5s
mkdir -m 0777 "$S/volumes" "$S/volumes/pv-0"
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolume
metadata: {name: trayb-pv-0}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $S/volumes/pv-0, type: Directory}
EOF

cat >"$S/cluster.env" <<EOF
NETNS=$ns
KUBECONFIG=$P/admin.kubeconfig
NODES=${nodes[*]}
LOGS=$S/logs
EOF
say "ready after ${SECONDS} s: nodes ${nodes[*]} in network namespace $ns"
