// The bundle against a real apiserver, with the commands k8s/README.md gives: the default
// stack installs with ONE `kubectl apply -k k8s` on a fresh cluster (the CRD and everything
// else; the controller creates its policy later), uninstalls with `kubectl delete -k k8s`,
// installs server-side too, and the production overlay (with the monitoring component)
// applies once the Prometheus Operator's CRDs are there, and so does the autoscaling component
// once KEDA's ScaledObject CRD is. The bundle owns the fixed namespace
// trayb-realtime, so this suite starts its own apiserver, with the namespace controller so
// an uninstall really finishes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  kubeConfigFrom,
  kubectl,
  startKubeApiserver,
  type KubeApiserver,
  type KubectlResult,
} from '#test-support/kube';
import { KubeCluster } from '../../service/src/controller/kube.ts';
import { REDIS_USER_PASSWORD_KEYS, ensureRedisUsers } from '../../service/src/controller/redis-users.ts';
import { k8sDir, repoRoot } from './render.ts';

const NAMESPACE = 'trayb-realtime';
const CRD = 'crd/streamremediationpolicies.realtime.trayb.io';
const REDIS_USERS = 'trayb-realtime-redis-users';
const CONTROLLER_ACCOUNT = `system:serviceaccount:${NAMESPACE}:trayb-realtime-controller`;
const PROMETHEUS_OPERATOR_CRDS = join(repoRoot, 'service/test/support/kube/crds/prometheus-operator-v0.85.0');
const KEDA_CRDS = join(repoRoot, 'service/test/support/kube/crds/keda-v2.21.0');
const K6_OPERATOR_CRDS = join(repoRoot, 'service/test/support/kube/crds/k6-operator-1c127b0');

let apiserver: KubeApiserver;
const run = (...args: string[]): Promise<KubectlResult> => kubectl(apiserver.kubeconfigPath, args);
const k8s = (path = '') => join(k8sDir, path);

function succeeded(result: KubectlResult): void {
  expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
}

beforeAll(async () => {
  apiserver = await startKubeApiserver({ controllers: ['namespace-controller'] });
}, 600_000);

afterAll(async () => {
  await apiserver?.stop();
});

describe('the default stack on a fresh cluster', () => {
  it('installs with one `kubectl apply -k k8s`, CRD included', async () => {
    const applied = await run('apply', '-k', k8s());
    succeeded(applied);
    expect(applied.stderr).not.toMatch(/error|no matches for kind/i);
    // Every object the kustomization renders now exists.
    succeeded(await run('get', '-k', k8s()));
  });

  it('ships no Redis password: the controller creates the Secret of random ones, and never overwrites it', async () => {
    expect((await run('get', 'secret', REDIS_USERS, '-n', NAMESPACE)).stderr).toMatch(/NotFound/);
    // What the controller's ServiceAccount may do with Secrets, as the bundle's RBAC says.
    const canI = async (...args: string[]) =>
      (await run('auth', 'can-i', ...args, `--as=${CONTROLLER_ACCOUNT}`, '-n', NAMESPACE)).stdout.trim();
    expect(await canI('create', 'secrets')).toBe('yes');
    expect(await canI('get', `secrets/${REDIS_USERS}`)).toBe('yes');
    expect(await canI('get', 'secrets/trayb-realtime-auth')).toBe('no');
    expect(await canI('list', 'secrets')).toBe('no');
    expect(await canI('update', `secrets/${REDIS_USERS}`)).toBe('no');

    const cluster = () => new KubeCluster(kubeConfigFrom(apiserver.kubeconfigPath), NAMESPACE, 'apply-test');
    const passwords = async () => {
      const secret = JSON.parse((await run('get', 'secret', REDIS_USERS, '-n', NAMESPACE, '-o', 'json')).stdout) as {
        data: Record<string, string>;
      };
      return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    };
    const first = await ensureRedisUsers(cluster(), REDIS_USERS);
    expect(first.created).toBe(true);
    const stored = await passwords();
    expect(Object.keys(stored).sort()).toEqual(Object.values(REDIS_USER_PASSWORD_KEYS).sort());
    for (const password of Object.values(stored)) expect(password).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(stored)).size).toBe(2);
    expect(first.controllerPassword).toBe(stored['controller-password']);

    // A second controller (or a restart) finds it and reads the same password; nothing changes.
    const second = await ensureRedisUsers(cluster(), REDIS_USERS);
    expect(second).toEqual({ created: false, controllerPassword: first.controllerPassword });
    expect(await passwords()).toEqual(stored);
    // Nor does the next apply: the Secret is not in the bundle, so kubectl leaves it alone.
    succeeded(await run('apply', '-k', k8s()));
    expect(await passwords()).toEqual(stored);
  });

  it('serves the CRD: it becomes Established', async () => {
    succeeded(await run('wait', '--for=condition=Established', '--timeout=60s', CRD));
    const resources = await run('api-resources', '--api-group=realtime.trayb.io', '-o', 'name');
    expect(resources.stdout.trim()).toBe('streamremediationpolicies.realtime.trayb.io');
  });

  it('applies again without changes (the same command is the upgrade)', async () => {
    const again = await run('apply', '-k', k8s());
    succeeded(again);
    expect(again.stdout).not.toMatch(/ created$/m);
  });

  it('uninstalls with `kubectl delete -k k8s`: the namespace and the CRD are gone', async () => {
    succeeded(await run('delete', '-k', k8s(), '--wait=false'));
    succeeded(await run('wait', '--for=delete', `namespace/${NAMESPACE}`, '--timeout=120s'));
    succeeded(await run('wait', '--for=delete', CRD, '--timeout=60s'));
  });

  it('installs server-side as well, and re-applies server-side without conflicts', async () => {
    succeeded(await run('apply', '-k', k8s(), '--server-side'));
    succeeded(await run('wait', '--for=condition=Established', '--timeout=60s', CRD));
    succeeded(await run('apply', '-k', k8s(), '--server-side'));
  });
});

describe('the production overlay, with the monitoring component', () => {
  it('is refused while the Prometheus Operator CRDs are missing (the README says to drop the component then)', async () => {
    const refused = await run('apply', '-k', k8s('overlays/production'), '--server-side', '--dry-run=server');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ServiceMonitor|PrometheusRule/);
  });

  it('applies server-side once the pinned Prometheus Operator CRDs are served', async () => {
    succeeded(await run('apply', '--server-side', '-f', PROMETHEUS_OPERATOR_CRDS));
    succeeded(
      await run(
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd/servicemonitors.monitoring.coreos.com',
        'crd/prometheusrules.monitoring.coreos.com',
      ),
    );
    succeeded(await run('apply', '-k', k8s('overlays/production'), '--server-side', '--dry-run=server'));
    succeeded(await run('apply', '-k', k8s('overlays/production'), '--server-side'));
    const monitors = await run('get', 'servicemonitors,prometheusrules', '-n', NAMESPACE, '-o', 'name');
    expect(monitors.stdout.trim().split('\n').length).toBe(3);
    const replicas = await run('get', 'deployment/trayb-realtime', '-n', NAMESPACE, '-o', 'jsonpath={.spec.replicas}');
    expect(replicas.stdout).toBe('4');
  });
});

describe('the production overlay with the autoscaling component (KEDA)', () => {
  /** What a user writes: the overlay plus the component, in a kustomization of their own. */
  function overlayWithAutoscaling(): string {
    const dir = mkdtempSync(join(tmpdir(), 'trayb-autoscaling-'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      JSON.stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        namespace: NAMESPACE,
        // kustomize takes only relative paths.
        resources: [relative(dir, k8s('overlays/production'))],
        components: [relative(dir, k8s('base/autoscaling'))],
      }),
    );
    return dir;
  }

  it('is refused while the KEDA CRD is missing', async () => {
    const refused = await run('apply', '-k', overlayWithAutoscaling(), '--server-side', '--dry-run=server');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ScaledObject/);
  });

  it('applies server-side once the pinned KEDA CRD is served, and leaves the replica count to the autoscaler', async () => {
    succeeded(await run('apply', '--server-side', '-f', KEDA_CRDS));
    succeeded(await run('wait', '--for=condition=Established', '--timeout=60s', 'crd/scaledobjects.keda.sh'));
    const dir = overlayWithAutoscaling();
    succeeded(await run('apply', '-k', dir, '--server-side', '--dry-run=server'));
    succeeded(await run('apply', '-k', dir, '--server-side'));
    const query = await run(
      'get',
      'scaledobject/trayb-realtime',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.scaleTargetRef.name} {.spec.triggers[0].type}',
    );
    expect(query.stdout).toBe('trayb-realtime prometheus');
    // The production overlay's replicas: 4 is gone from what this apply manages: the field
    // is the autoscaler's (KEDA's HPA) to set from now on.
    const managed = await run(
      'get',
      'deployment/trayb-realtime',
      '-n',
      NAMESPACE,
      '--show-managed-fields',
      '-o',
      'json',
    );
    const fields = JSON.parse(managed.stdout) as {
      metadata: { managedFields: { manager: string; fieldsV1: unknown }[] };
    };
    const kubectlFields = fields.metadata.managedFields.filter((f) => f.manager === 'kubectl');
    expect(JSON.stringify(kubectlFields)).not.toMatch(/"f:replicas"/);
  });
});

// The load test's TestRun against the k6-operator's TestRun CRD (a pinned excerpt, see its
// README): kubectl validates strictly, so every field the bundle sets must be one the CRD
// knows, and one `kubectl apply -k k8s/loadtest` creates the run, its script ConfigMap and
// its ServiceAccount.
describe('the load test (k8s/loadtest)', () => {
  beforeAll(async () => {
    succeeded(await run('apply', '--server-side', '-f', K6_OPERATOR_CRDS));
    succeeded(await run('wait', '--for=condition=Established', '--timeout=60s', 'crd/testruns.k6.io'));
    succeeded(await run('apply', '-f', k8s('base/namespace.yaml')));
  });

  it('is accepted server-side in one `kubectl apply -k k8s/loadtest`: TestRun, script ConfigMap, ServiceAccount', async () => {
    succeeded(await run('apply', '-k', k8s('loadtest'), '--dry-run=server'));
    succeeded(await run('apply', '-k', k8s('loadtest')));
    const testRun = await run(
      'get',
      'testrun/trayb-realtime-sse',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.parallelism} {.spec.cleanup} {.spec.runner.serviceAccountName} {.spec.script.configMap.name}',
    );
    succeeded(testRun);
    expect(testRun.stdout).toBe('2 post trayb-realtime-loadtest trayb-realtime-loadtest');
    const script = await run('get', 'configmap/trayb-realtime-loadtest', '-n', NAMESPACE, '-o', 'jsonpath={.data}');
    succeeded(script);
    expect(Object.keys(JSON.parse(script.stdout) as object)).toContain('sse.js');
    succeeded(await run('get', 'serviceaccount/trayb-realtime-loadtest', '-n', NAMESPACE));
    // Nothing granted: the load test's pods may not even read their own ConfigMap through the API.
    const canRead = await run(
      'auth',
      'can-i',
      'get',
      'configmaps',
      '-n',
      NAMESPACE,
      `--as=system:serviceaccount:${NAMESPACE}:trayb-realtime-loadtest`,
    );
    expect(canRead.stdout.trim()).toBe('no');
    succeeded(await run('delete', '-k', k8s('loadtest'), '--wait'));
  });

  it('refuses a TestRun field the CRD does not know, so the acceptance above means something', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'testrun-'));
    const file = join(dir, 'testrun.yaml');
    writeFileSync(
      file,
      `apiVersion: k6.io/v1alpha1\nkind: TestRun\nmetadata:\n  name: misspelled\n  namespace: ${NAMESPACE}\nspec:\n  parallelism: 1\n  seperate: false\n  script:\n    configMap:\n      name: x\n      file: sse.js\n`,
    );
    const refused = await run('apply', '-f', file, '--dry-run=server');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unknown field "spec.seperate"/);
  });
});
