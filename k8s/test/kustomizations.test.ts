// Every kustomization and component under k8s/ builds with the kustomize that
// `kubectl apply -k` uses, and the optional parts do what their comments promise.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  envValue,
  imagesIn,
  named,
  ofKind,
  onlyContainer,
  schemaProblems,
  selects,
  workload,
  type OpenApiSchema,
} from './manifests.ts';
import { instructions, readDockerfile, type Stage } from './dockerfile.ts';
import { k8sDir, repoRoot, workspace, type KubeObject } from './render.ts';
import { K6_FILES, K6_SCRIPT } from '../../loadtest/k6-files.ts';
import { serviceMetrics } from '#contract';

const ws = workspace();
afterAll(() => ws.dispose());

function kustomizationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return kustomizationFiles(path);
    return entry.name === 'kustomization.yaml' ? [path] : [];
  });
}

function renderAny(folder: string): KubeObject[] {
  const { kind } = parse(readFileSync(join(k8sDir, folder, 'kustomization.yaml'), 'utf8')) as { kind: string };
  return kind === 'Component' ? ws.renderComponent(folder) : ws.render(folder);
}

const folders = kustomizationFiles(k8sDir).map((file) => relative(k8sDir, dirname(file)) || '.');

describe('every kustomization under k8s/ renders', () => {
  it('finds the folders the README describes', () => {
    for (const folder of [
      '.',
      'base',
      'base/service',
      'base/crd',
      'base/controller',
      'base/rbac',
      'base/redis',
      'base/monitoring',
      'base/autoscaling',
      'base/rbac/rollout-restart',
      'base/rbac/delete-pod',
      'overlays/production',
      'loadtest',
    ]) {
      expect(folders).toContain(folder);
    }
  });

  it.each(folders)('%s', (folder) => {
    const objects = renderAny(folder);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects)
      expect(object.metadata.name, `${object.kind} without a name in ${folder}`).toBeTruthy();
  });
});

/** CONTROLLER_ACTION as the controller container sees it (its ConfigMaps), the env default when unset. */
function controllerAction(objects: readonly KubeObject[]): string {
  return (
    envValue(onlyContainer(workload(objects, 'trayb-realtime-controller')), objects, 'CONTROLLER_ACTION') ?? 'evict'
  );
}

describe('the default stack', () => {
  it('ships no StreamRemediationPolicy (the controller creates it; a CR cannot be applied with its CRD) and evicts by default', () => {
    const objects = renderAny('.');
    expect(ofKind(objects, 'StreamRemediationPolicy')).toEqual([]);
    expect(controllerAction(objects)).toBe('evict');
  });
});

describe('the rollout-restart component', () => {
  const objects = renderAny('base/rbac/rollout-restart');

  it('lets the controller patch the service Deployment and nothing else', () => {
    const role = named(objects, 'Role', 'trayb-realtime-controller-rollout-restart');
    // pod → ReplicaSet → Deployment: the owner chain the controller follows before patching.
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['trayb-realtime'], verbs: ['patch'] },
    ]);
    expect(() => workload(objects, 'trayb-realtime')).not.toThrow();
    const binding = named(objects, 'RoleBinding', 'trayb-realtime-controller-rollout-restart');
    const account = workload(objects, 'trayb-realtime-controller').pod.serviceAccountName;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account, namespace: 'trayb-realtime' }]);
  });

  it("switches the controller's default action to rollout-restart", () => {
    expect(controllerAction(objects)).toBe('rollout-restart');
  });
});

describe('the delete-pod component', () => {
  const objects = renderAny('base/rbac/delete-pod');

  it("lets the controller delete pods, and switches the controller's default action to delete", () => {
    expect(named(objects, 'Role', 'trayb-realtime-controller-delete-pod').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
    ]);
    const binding = named(objects, 'RoleBinding', 'trayb-realtime-controller-delete-pod');
    expect(binding.subjects).toEqual([
      {
        kind: 'ServiceAccount',
        name: workload(objects, 'trayb-realtime-controller').pod.serviceAccountName,
        namespace: 'trayb-realtime',
      },
    ]);
    expect(controllerAction(objects)).toBe('delete');
  });
});

describe('the autoscaling component', () => {
  const objects = renderAny('base/autoscaling');
  const scaled = named(objects, 'ScaledObject', 'trayb-realtime') as KubeObject & {
    spec: {
      scaleTargetRef: { kind: string; name: string };
      minReplicaCount: number;
      triggers: { type: string; metricType: string; metadata: Record<string, string> }[];
    };
  };

  it('scales the service Deployment on SSE connections per pod from Prometheus', () => {
    expect(scaled.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'trayb-realtime' });
    expect(workload(objects, scaled.spec.scaleTargetRef.name).object.kind).toBe('Deployment');
    const [trigger] = scaled.spec.triggers;
    expect(scaled.spec.triggers).toHaveLength(1);
    expect(trigger).toMatchObject({ type: 'prometheus', metricType: 'AverageValue' });
    expect(trigger?.metadata.query).toBe(
      `sum(${serviceMetrics.connections}{namespace="trayb-realtime", job="trayb-realtime"})`,
    );
    // The job label Prometheus gives the scraped pods: the name of the Service the ServiceMonitor selects.
    expect(() => named(objects, 'Service', 'trayb-realtime')).not.toThrow();
    expect(Number(trigger?.metadata.threshold)).toBeGreaterThan(0);
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
  });

  it('leaves the replica count to the autoscaler, so an apply does not reset it', () => {
    const replicas = (name: string) => (workload(objects, name).object.spec as { replicas?: number }).replicas;
    expect(replicas('trayb-realtime')).toBeUndefined();
    expect(replicas('trayb-realtime-controller')).toBe(2);
  });
});

describe('the k6 load test', () => {
  const objects = ws.render('loadtest');
  const testRun = named(objects, 'TestRun', 'trayb-realtime-sse');
  const spec = testRun.spec as {
    parallelism: number;
    script: { configMap: { name: string; file: string } };
    runner: { env: { name: string; value?: string }[] };
  };

  it('spreads one script over several runner pods that fit a small cluster, and cleans up after the run', () => {
    expect(spec.parallelism).toBeGreaterThan(1);
    // `separate: true` needs a node per runner; runners beyond the node count stay Pending.
    expect((testRun.spec as { separate?: boolean }).separate ?? false).toBe(false);
    expect((testRun.spec as { cleanup?: string }).cleanup).toBe('post');
    const script = named(objects, 'ConfigMap', spec.script.configMap.name);
    // The script and the modules it imports, side by side as it imports them.
    expect(Object.keys(script.data as object).sort()).toEqual([...K6_FILES].sort());
    expect(spec.script.configMap.file).toBe(K6_SCRIPT);
  });

  it('pins every image it starts (the operator defaults to `latest`)', () => {
    const images = imagesIn(testRun.spec);
    expect(images.length).toBe(3); // initializer, starter, runner
    for (const image of images) expect(image).toMatch(/:\d[\w.-]*$/);
  });

  it('runs k6 with xk6-sse from the runner image, named once in the kustomization', () => {
    const { images } = parse(readFileSync(join(k8sDir, 'loadtest', 'kustomization.yaml'), 'utf8')) as {
      images: { name: string; newName: string; newTag: string }[];
    };
    expect(images).toHaveLength(1);
    const runnerImage = `${images[0]?.newName}:${images[0]?.newTag}`;
    const { initializer, runner } = testRun.spec as { initializer: { image: string }; runner: { image: string } };
    // Both inspect or run the script, so both need the extension.
    expect(initializer.image).toBe(runnerImage);
    expect(runner.image).toBe(runnerImage);
  });

  it('builds that image from a Dockerfile whose k6, xk6 and xk6-sse versions are pinned', () => {
    const text = readFileSync(join(k8sDir, 'loadtest', 'runner', 'Dockerfile'), 'utf8');
    const stages = readDockerfile(join(k8sDir, 'loadtest', 'runner', 'Dockerfile'));
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runner']);
    const argDefault = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(text)?.[1];
    expect(argDefault('K6_VERSION')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(argDefault('XK6_VERSION')).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(argDefault('XK6_SSE_VERSION')).toMatch(/^v\d+\.\d+\.\d+$/);
    const run = instructions(stages[0] as Stage, 'RUN').map((instruction) => instruction.args);
    expect(run).toContain('go install go.k6.io/xk6/cmd/xk6@${XK6_VERSION}');
    expect(run.find((args) => args.startsWith('xk6 build'))).toBe(
      'xk6 build v${K6_VERSION} --with github.com/phymbert/xk6-sse@${XK6_SSE_VERSION} --output /build/k6',
    );
    // The runtime stage is the official image of the same release: its uid 12345 is the
    // one the TestRun's securityContext runs as.
    expect(stages[1]?.image).toBe('grafana/k6:${K6_VERSION}');
    expect(instructions(stages[1] as Stage, 'COPY').map((instruction) => instruction.args)).toEqual([
      '--from=build /build/k6 /usr/bin/k6',
    ]);
    expect(
      (testRun.spec as { runner: { securityContext: { runAsUser: number } } }).runner.securityContext.runAsUser,
    ).toBe(12345);
  });

  it('targets the service’s in-cluster address and public port', () => {
    const stack = ws.render('.');
    const baseUrl = new URL(spec.runner.env.find((e) => e.name === 'BASE_URL')?.value ?? '');
    const [serviceName, namespace] = baseUrl.hostname.split('.');
    const service = named(stack, 'Service', serviceName ?? '');
    expect(service.metadata.namespace).toBe(namespace);
    const port = (service.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === 'http');
    expect(port?.port).toBe(Number(baseUrl.port));
  });

  const script = join(k8sDir, '..', 'loadtest', 'sse.js');
  it('hands the runners environment variables the script reads', () => {
    const read = new Set(
      [...readFileSync(script, 'utf8').matchAll(/__ENV\.([A-Z_][A-Z0-9_]*)|__ENV\[['"]([A-Z_][A-Z0-9_]*)['"]\]/g)].map(
        (m) => m[1] ?? m[2],
      ),
    );
    // K6_* configure k6 itself (its remote-write output), not the script.
    for (const { name } of spec.runner.env.filter((e) => !e.name.startsWith('K6_')))
      expect([...read], `runner env ${name}`).toContain(name);
  });

  it('counts drops from the Prometheus that scrapes every service pod, selected as the ServiceMonitor labels them', () => {
    const env = (name: string) => spec.runner.env.find((e) => e.name === name)?.value ?? '';
    expect(new URL(env('PROMETHEUS_URL')).hostname).toBe(new URL(env('K6_PROMETHEUS_RW_SERVER_URL')).hostname);
    // The ServiceMonitor scrapes the Service named trayb-realtime: Prometheus' job label.
    const monitors = ofKind(ws.renderComponent('base/monitoring'), 'ServiceMonitor');
    const serviceMonitor = monitors.find((monitor) => monitor.metadata.name === 'trayb-realtime');
    expect(serviceMonitor).toBeDefined();
    expect(env('PROMETHEUS_SELECTOR')).toBe('job="trayb-realtime",namespace="trayb-realtime"');
    expect((testRun.spec as { arguments: string }).arguments).toMatch(/--out experimental-prometheus-rw/);
  });

  it('fits the pinned k6-operator TestRun CRD: no field the API server would refuse', () => {
    const crd = parse(
      readFileSync(join(repoRoot, 'service/test/support/kube/crds/k6-operator-1c127b0/k6.io_testruns.yaml'), 'utf8'),
    ) as { spec: { versions: { name: string; schema: { openAPIV3Schema: OpenApiSchema } }[] } };
    const schema = crd.spec.versions.find((version) => version.name === 'v1alpha1')?.schema.openAPIV3Schema;
    expect(testRun.apiVersion).toBe('k6.io/v1alpha1');
    expect(schemaProblems(testRun.spec, schema?.properties?.spec ?? {}, 'spec')).toEqual([]);
    // The check can fail: a misspelt field is named.
    expect(
      schemaProblems({ ...(testRun.spec as object), seperate: true }, schema?.properties?.spec ?? {}, 'spec'),
    ).toEqual(['spec.seperate: not in the schema (the API server would prune it)']);
  });

  it('runs its pods under a ServiceAccount bound to nothing, without a token', () => {
    const pods = testRun.spec as Record<string, { serviceAccountName?: string; automountServiceAccountToken?: string }>;
    for (const part of ['initializer', 'starter', 'runner']) {
      expect(pods[part]?.serviceAccountName, part).toBe('trayb-realtime-loadtest');
      expect(pods[part]?.automountServiceAccountToken, part).toBe('false');
    }
    const account = named(objects, 'ServiceAccount', 'trayb-realtime-loadtest');
    expect((account as { automountServiceAccountToken?: boolean }).automountServiceAccountToken).toBe(false);
    expect([...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')]).toEqual([]);
  });

  it('is not part of the default stack', () => {
    expect(ofKind(ws.render('.'), 'TestRun')).toEqual([]);
    expect(ofKind(ws.render('overlays/production'), 'TestRun')).toEqual([]);
  });
});

describe('the example policy against the CRD', () => {
  const stack = ws.render('.');
  const crd = () => named(stack, 'CustomResourceDefinition', 'streamremediationpolicies.realtime.trayb.io');
  const specSchema = () =>
    (crd().spec as { versions: { name: string; schema: { openAPIV3Schema: OpenApiSchema } }[] }).versions.find(
      (v) => v.name === 'v1alpha1',
    )?.schema.openAPIV3Schema.properties?.spec;

  it('is a namespaced realtime.trayb.io/v1alpha1 resource named streamremediationpolicies', () => {
    const spec = crd().spec as { group: string; scope: string; names: { plural: string; kind: string } };
    expect([spec.group, spec.scope, spec.names.plural, spec.names.kind]).toEqual([
      'realtime.trayb.io',
      'Namespaced',
      'streamremediationpolicies',
      'StreamRemediationPolicy',
    ]);
  });

  it('the example policy in k8s/examples fits the CRD schema and selects the service pods', () => {
    const policy = parse(readFileSync(join(k8sDir, 'examples', 'streamremediationpolicy.yaml'), 'utf8')) as KubeObject;
    expect([policy.apiVersion, policy.kind, policy.metadata.name]).toEqual([
      'realtime.trayb.io/v1alpha1',
      'StreamRemediationPolicy',
      'trayb-realtime',
    ]);
    const schema = specSchema();
    expect(schema).toBeDefined();
    expect(schemaProblems(policy.spec, schema ?? {}, 'spec')).toEqual([]);
    const service = workload(stack, 'trayb-realtime');
    expect(
      selects((policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector, service.podLabels),
    ).toBe(true);
  });
});
