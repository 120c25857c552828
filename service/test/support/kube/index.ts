// Owns the real-Kubernetes test harness: a private etcd plus a kube-apiserver built from the
// Go module proxy (build-kube-apiserver.sh, cached per machine in
// ~/.cache/trayb-realtime/kube-apiserver/<version>), the admin kubeconfig, kubectl and
// client-node helpers, an optional kube-controller-manager running chosen controllers, and
// hand-written stand-ins for the controllers that do not run. Suites named *.k8s.test.ts run
// with `npm run test:k8s` against one shared bare apiserver, reached through
// inject('kubeconfigPath'), or start their own with startKubeApiserver().
export { startKubeApiserver, kubeApiserverBinary, type KubeApiserver, type StartOptions } from './kube-apiserver.ts';
export type { ControllerName } from './controller-manager.ts';
export { kubectl, kubeConfigFrom, uniqueNamespace, type KubectlResult } from './kubectl.ts';
export { markPodRunning, setPdbStatus, type PdbStatus } from './cluster-fakes.ts';
export { ADMIN_USER, ADMIN_GROUP } from './pki.ts';
