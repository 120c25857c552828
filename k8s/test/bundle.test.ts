// Structural checks of what `kubectl apply -k` would send: the default stack (k8s/) and the
// production overlay. Names, labels, ports and environment variables have to line up
// across files that kustomize does not cross-check, so these tests do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceEnv } from '../../service/src/config/index.ts';
import { controllerEnv } from '../../service/src/config/controller.ts';
import {
  envNames,
  envValue,
  imagesIn,
  named,
  ofKind,
  onlyContainer,
  portNamed,
  selects,
  workload,
  workloads,
  type Container,
} from './manifests.ts';
import { repoRoot, workspace, type KubeObject } from './render.ts';

const packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

const ws = workspace();
afterAll(() => ws.dispose());

const stacks: Record<string, KubeObject[]> = {
  'default stack (k8s/)': ws.render('.'),
  'production overlay': ws.render('overlays/production'),
};
const defaultStack = stacks['default stack (k8s/)'] ?? [];
const production = stacks['production overlay'] ?? [];

const SERVICE = 'trayb-realtime';
const CONTROLLER = 'trayb-realtime-controller';
const NAMESPACE = 'trayb-realtime';

function preStopSeconds(container: Container): number {
  const { preStop } = container.lifecycle ?? {};
  if (preStop?.sleep !== undefined) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  return command[0] === 'sleep' ? Number(command[1]) : 0;
}

describe.each(Object.entries(stacks))('%s', (_name, objects) => {
  it('puts every namespaced object into the trayb-realtime namespace', () => {
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition']);
    for (const object of objects.filter((o) => !clusterScoped.has(o.kind))) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
    }
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    expect(ofKind(objects, 'ClusterRoleBinding')).toEqual([]);
  });

  it('selects each workload’s own pods, and nothing else', () => {
    const all = workloads(objects);
    for (const w of all) {
      expect(selects(w.selector, w.podLabels), `${w.object.metadata.name} selector vs template labels`).toBe(true);
      const others = all.filter((other) => other !== w && selects(w.selector, other.podLabels));
      expect(
        others.map((o) => o.object.metadata.name),
        `${w.object.metadata.name} selector overlaps`,
      ).toEqual([]);
    }
  });

  it('routes every Service port to a named container port of the pods it selects', () => {
    for (const service of ofKind(objects, 'Service')) {
      const spec = service.spec as {
        selector: Record<string, string>;
        ports: { name: string; targetPort: string | number }[];
      };
      const backends = workloads(objects).filter((w) => selects({ matchLabels: spec.selector }, w.podLabels));
      expect(backends.length, `${service.metadata.name} selects a workload`).toBe(1);
      const container = onlyContainer(backends[0]!);
      for (const port of spec.ports) {
        expect(typeof port.targetPort, `${service.metadata.name}:${port.name} targets a named port`).toBe('string');
        expect(portNamed(container, String(port.targetPort)), `${service.metadata.name}:${port.name}`).toBeDefined();
        expect(port.name).toBe(port.targetPort);
      }
    }
  });

  it('aims every PodDisruptionBudget and NetworkPolicy at exactly one workload, on ports it has', () => {
    for (const pdb of ofKind(objects, 'PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: Parameters<typeof selects>[0] }).selector;
      expect(workloads(objects).filter((w) => selects(selector, w.podLabels)).length, pdb.metadata.name).toBe(1);
    }
    for (const policy of ofKind(objects, 'NetworkPolicy')) {
      const spec = policy.spec as {
        podSelector: Parameters<typeof selects>[0];
        ingress: { ports?: { port: string | number }[]; from?: { podSelector?: Parameters<typeof selects>[0] }[] }[];
      };
      const targets = workloads(objects).filter((w) => selects(spec.podSelector, w.podLabels));
      expect(targets.length, policy.metadata.name).toBe(1);
      for (const rule of spec.ingress) {
        for (const port of rule.ports ?? [])
          expect(
            portNamed(onlyContainer(targets[0]!), String(port.port)),
            `${policy.metadata.name} port ${port.port}`,
          ).toBeDefined();
        for (const peer of rule.from ?? []) {
          if (peer.podSelector === undefined) continue;
          // A pod-selector rule that matches no pod of the stack would silently block everything.
          expect(
            workloads(objects).some((w) => selects(peer.podSelector, w.podLabels)),
            `${policy.metadata.name} peers`,
          ).toBe(true);
        }
      }
    }
  });

  it('gives the service only environment variables that service/src/config declares', () => {
    const container = onlyContainer(workload(objects, SERVICE));
    const declared = Object.keys(serviceEnv);
    const undeclared = envNames(container, objects).filter((name) => !declared.includes(name));
    expect(undeclared).toEqual([]);
  });

  it('gives the controller only environment variables its config declares', () => {
    const container = onlyContainer(workload(objects, CONTROLLER));
    const declared = Object.keys(controllerEnv);
    const undeclared = envNames(container, objects).filter((name) => !declared.includes(name));
    expect(undeclared).toEqual([]);
  });

  it('has the service and the controller read the same stream', () => {
    const service = onlyContainer(workload(objects, SERVICE));
    const controller = onlyContainer(workload(objects, CONTROLLER));
    for (const name of [
      'REALTIME_STREAM_KEY',
      'REALTIME_STREAM_GROUP',
      'REALTIME_STREAM_MAXLEN',
      'REALTIME_STREAM_READ_BLOCK_MS',
    ]) {
      expect(envValue(controller, objects, name), name).toBe(envValue(service, objects, name));
      expect(envValue(service, objects, name), name).toBeDefined();
    }
  });

  it('identifies each pod by the downward API', () => {
    const fieldOf = (container: Container, name: string) =>
      container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
    expect(fieldOf(onlyContainer(workload(objects, SERVICE)), 'POD_NAME')).toBe('metadata.name');
    expect(fieldOf(onlyContainer(workload(objects, CONTROLLER)), 'POD_NAME')).toBe('metadata.name');
    expect(fieldOf(onlyContainer(workload(objects, CONTROLLER)), 'POD_NAMESPACE')).toBe('metadata.namespace');
  });

  it('listens where the pod spec says: PORT and METRICS_PORT match the named container ports', () => {
    const service = onlyContainer(workload(objects, SERVICE));
    expect(Number(envValue(service, objects, 'PORT') ?? serviceEnv.PORT.defaultText)).toBe(portNamed(service, 'http'));
    expect(Number(envValue(service, objects, 'METRICS_PORT') ?? serviceEnv.METRICS_PORT.defaultText)).toBe(
      portNamed(service, 'metrics'),
    );
    const controller = onlyContainer(workload(objects, CONTROLLER));
    expect(Number(envValue(controller, objects, 'METRICS_PORT'))).toBe(portNamed(controller, 'metrics'));
    expect(portNamed(controller, 'metrics')).toBe(9465);
  });

  it('probes the service and the controller on their health routes through named ports', () => {
    const service = onlyContainer(workload(objects, SERVICE));
    expect(service.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(service.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(service.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // The controller has no public port: its probes share the metrics listener.
    const controller = onlyContainer(workload(objects, CONTROLLER));
    expect(controller.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(controller.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    for (const w of workloads(objects)) {
      for (const container of w.pod.containers) {
        expect(container.readinessProbe, `${w.object.metadata.name} readiness`).toBeDefined();
        expect(container.livenessProbe, `${w.object.metadata.name} liveness`).toBeDefined();
        for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (port !== undefined)
            expect(portNamed(container, String(port)), `${w.object.metadata.name} probe port ${port}`).toBeDefined();
        }
      }
    }
  });

  it('lets a service pod drain before it is killed', () => {
    const w = workload(objects, SERVICE);
    const container = onlyContainer(w);
    const drainSeconds =
      Number(envValue(container, objects, 'SSE_DRAIN_WINDOW_MS') ?? serviceEnv.SSE_DRAIN_WINDOW_MS.defaultText) / 1000;
    // Stopping the bus waits for the reader's current XREADGROUP BLOCK at worst.
    const busStopSeconds =
      Number(
        envValue(container, objects, 'REALTIME_STREAM_READ_BLOCK_MS') ??
          serviceEnv.REALTIME_STREAM_READ_BLOCK_MS.defaultText,
      ) / 1000;
    const preStop = preStopSeconds(container);
    expect(preStop).toBeGreaterThan(0);
    expect(w.pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(preStop + drainSeconds + busStopSeconds);
  });

  it('runs at least two service replicas spread over nodes and zones, and two controller replicas', () => {
    const service = workload(objects, SERVICE);
    expect(service.replicas).toBeGreaterThanOrEqual(2);
    const keys = (service.pod.topologySpreadConstraints ?? []).map((c) => c.topologyKey).sort();
    expect(keys).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of service.pod.topologySpreadConstraints ?? [])
      expect(selects(constraint.labelSelector, service.podLabels)).toBe(true);
    expect(workload(objects, CONTROLLER).replicas).toBe(2);
  });

  it('runs both entry points from one image, tagged with the package version and never `latest`', () => {
    const service = onlyContainer(workload(objects, SERVICE));
    const controller = onlyContainer(workload(objects, CONTROLLER));
    expect(controller.image).toBe(service.image);
    expect(service.image).toMatch(new RegExp(`:${packageVersion.replaceAll('.', '\\.')}$`));
    expect(service.command).toBeUndefined(); // the image's CMD: node <SERVICE_NODE_FLAGS> dist/main.js
    expect(controller.command).toEqual(['node', 'dist/controller/main.js']);
    for (const image of imagesIn(objects)) {
      expect(image, image).toMatch(/(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/);
      expect(image, image).not.toMatch(/:latest$/);
    }
  });

  it('sets requests and a memory limit on every container', () => {
    for (const w of workloads(objects)) {
      for (const container of w.pod.containers) {
        const where = `${w.object.metadata.name}/${container.name}`;
        expect(container.resources?.requests?.cpu, where).toBeDefined();
        expect(container.resources?.requests?.memory, where).toBeDefined();
        expect(container.resources?.limits?.memory, where).toBeDefined();
      }
    }
  });

  it('runs every container non-root, without privileges, on a read-only root filesystem', () => {
    for (const w of workloads(objects)) {
      const where = w.object.metadata.name;
      expect(w.pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(w.pod.securityContext?.runAsUser, where).toBeGreaterThan(0);
      expect(w.pod.securityContext?.seccompProfile?.type, where).toBe('RuntimeDefault');
      for (const container of [...w.pod.containers, ...(w.pod.initContainers ?? [])]) {
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
      }
    }
  });

  it('keeps the service away from the Kubernetes API and gives the controller only what it uses', () => {
    const service = workload(objects, SERVICE);
    expect(service.pod.automountServiceAccountToken).toBe(false);
    const controller = workload(objects, CONTROLLER);
    const account = controller.pod.serviceAccountName;
    const bindings = ofKind(objects, 'RoleBinding').filter((b) =>
      (b.subjects as { kind: string; name: string }[]).some((s) => s.kind === 'ServiceAccount' && s.name === account),
    );
    // The default stack's Redis adds one binding: create its users' Secret, read that one.
    const redisUsers = objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'trayb-realtime-redis');
    expect(bindings.map((b) => b.metadata.name).sort()).toEqual(
      redisUsers ? [CONTROLLER, `${CONTROLLER}-redis-users`] : [CONTROLLER],
    );
    expect(
      ofKind(objects, 'RoleBinding').some((b) =>
        (b.subjects as { name: string }[]).some((s) => s.name === service.pod.serviceAccountName),
      ),
    ).toBe(false);
    // What the controller's own Role grants is held to the requests the controller really
    // makes by rbac.test.ts (per client call) and service/test/controller/cluster.k8s.test.ts
    // (recorded); the Redis users' Role by apply.k8s.test.ts.
    expect(bindings.find((b) => b.metadata.name === CONTROLLER)?.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: CONTROLLER,
    });
    for (const [kind, name] of [
      ['ServiceAccount', service.pod.serviceAccountName],
      ['ServiceAccount', account],
    ] as const)
      expect(() => named(objects, kind, name ?? '')).not.toThrow();
  });

  it('names the policy the controller follows (and creates when missing), and selects exactly the service pods', () => {
    // No StreamRemediationPolicy is shipped: kubectl cannot apply one with its CRD in one go.
    expect(ofKind(objects, 'StreamRemediationPolicy')).toEqual([]);
    const controller = onlyContainer(workload(objects, CONTROLLER));
    expect(envValue(controller, objects, 'CONTROLLER_POLICY_NAME')).toBe('trayb-realtime');
    const selectorDefault = (controllerEnv?.CONTROLLER_POD_SELECTOR as { defaultText?: string } | undefined)
      ?.defaultText;
    const selectorText = envValue(controller, objects, 'CONTROLLER_POD_SELECTOR') ?? selectorDefault;
    expect(selectorText).toBeDefined();
    // The created policy has an empty spec, so this selector is the one the controller follows.
    const matchLabels = Object.fromEntries(
      (selectorText ?? '').split(',').map((pair) => pair.split('=') as [string, string]),
    );
    const selected = workloads(objects).filter((w) => selects({ matchLabels }, w.podLabels));
    expect(selected.map((w) => w.object.metadata.name)).toEqual([SERVICE]);
    expect(matchLabels).toEqual(workload(objects, SERVICE).selector.matchLabels);
  });

  it('resolves every ConfigMap and Secret reference, or names a Secret the operator creates', () => {
    // trayb-realtime-redis-users is created by the controller itself (base/redis).
    const operatorSecrets = new Set([
      'trayb-realtime-auth',
      'trayb-realtime-redis-connection',
      'trayb-realtime-redis-users',
    ]);
    for (const w of workloads(objects)) {
      for (const container of w.pod.containers) {
        for (const source of container.envFrom ?? [])
          if (source.configMapRef) expect(() => named(objects, 'ConfigMap', source.configMapRef!.name)).not.toThrow();
        for (const entry of container.env ?? []) {
          const ref = entry.valueFrom?.secretKeyRef;
          if (ref === undefined) continue;
          const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
          if (secret) expect(Object.keys(secret.data ?? {}), `${ref.name}.${ref.key}`).toContain(ref.key);
          else expect([...operatorSecrets], `${w.object.metadata.name} ${entry.name}`).toContain(ref.name);
        }
      }
    }
  });

  it('keeps every object small enough for client-side `kubectl apply` (256 KiB annotation)', () => {
    for (const object of objects)
      expect(JSON.stringify(object).length, `${object.kind}/${object.metadata.name}`).toBeLessThan(256 * 1024);
  });
});

describe('the default stack', () => {
  it('runs Redis as one replica with an append-only file on a persistent volume', () => {
    const redis = workload(defaultStack, 'trayb-realtime-redis');
    expect(redis.object.kind).toBe('StatefulSet');
    expect(redis.replicas).toBe(1);
    const args = onlyContainer(redis).args ?? [];
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    const claims = (redis.object.spec as { volumeClaimTemplates: { metadata: { name: string } }[] })
      .volumeClaimTemplates;
    const dataMount = onlyContainer(redis) as Container & { volumeMounts: { name: string; mountPath: string }[] };
    expect(claims.map((c) => c.metadata.name)).toContain('data');
    expect(dataMount.volumeMounts.find((m) => m.name === 'data')?.mountPath).toBe(args[args.indexOf('--dir') + 1]);
  });

  it('points REDIS_URL at the in-cluster Redis Service', () => {
    const secret = named(
      defaultStack,
      'Secret',
      (onlyContainer(workload(defaultStack, SERVICE)).env ?? []).find((e) => e.name === 'REDIS_URL')!.valueFrom!
        .secretKeyRef!.name,
    );
    const url = new URL(Buffer.from((secret.data as { url: string }).url, 'base64').toString());
    const service = named(defaultStack, 'Service', url.hostname);
    expect((service.spec as { ports: { port: number }[] }).ports.map((p) => p.port)).toContain(Number(url.port));
  });

  it('generates a JWT secret that says it is a development fake', () => {
    const secret = named(
      defaultStack,
      'Secret',
      ofKind(defaultStack, 'Secret').find((s) => s.metadata.name.startsWith('trayb-realtime-auth'))!.metadata.name,
    );
    expect(secret.metadata.labels?.['trayb.io/insecure-development-secret']).toBe('true');
    expect(Buffer.from((secret.data as { 'jwt-secret': string })['jwt-secret'], 'base64').toString()).toMatch(
      /INSECURE/,
    );
  });
});

describe('the production overlay', () => {
  it('uses an external Redis and the operator’s own Secrets: no Redis pods, no Secret in the bundle', () => {
    expect(
      workloads(production)
        .map((w) => w.object.metadata.name)
        .sort(),
    ).toEqual([SERVICE, CONTROLLER].sort());
    expect(ofKind(production, 'Secret')).toEqual([]);
  });

  it('runs more, larger service replicas than the default stack', () => {
    const mebibytes = (quantity: string | undefined) => Number(/^(\d+)Mi$/.exec(quantity ?? '')?.[1]);
    const prod = workload(production, SERVICE);
    const dev = workload(defaultStack, SERVICE);
    expect(prod.replicas).toBeGreaterThan(dev.replicas);
    expect(mebibytes(onlyContainer(prod).resources?.limits?.memory)).toBeGreaterThan(
      mebibytes(onlyContainer(dev).resources?.limits?.memory),
    );
  });

  it('scrapes the service and the controller through ServiceMonitors that kube-prometheus-stack selects', () => {
    const monitors = ofKind(production, 'ServiceMonitor');
    expect(monitors.length).toBe(2);
    for (const monitor of monitors) {
      expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
      const spec = monitor.spec as { selector: Parameters<typeof selects>[0]; endpoints: { port: string }[] };
      const services = ofKind(production, 'Service').filter((s) => selects(spec.selector, s.metadata.labels));
      expect(services.length, monitor.metadata.name).toBe(1);
      const portNames = (services[0]!.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      for (const endpoint of spec.endpoints) expect(portNames).toContain(endpoint.port);
    }
  });
});
