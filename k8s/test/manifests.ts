// Typed views of rendered Kubernetes objects for the structural checks: workloads, their
// pod templates and containers, and label selector matching as the API server does it.
import type { KubeObject } from './render.ts';

export interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
  exec?: { command: string[] };
  [field: string]: unknown;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  topologySpreadConstraints?: { topologyKey: string; labelSelector: Selector }[];
  containers: Container[];
  initContainers?: Container[];
}

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface Workload {
  object: KubeObject;
  replicas: number;
  selector: Selector;
  podLabels: Record<string, string>;
  pod: PodSpec;
}

export function selects(selector: Selector | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const value = have[expression.key];
    const values = expression.values ?? [];
    const ok = {
      In: value !== undefined && values.includes(value),
      NotIn: value === undefined || !values.includes(value),
      Exists: value !== undefined,
      DoesNotExist: value === undefined,
    }[expression.operator];
    if (!ok) return false;
  }
  return true;
}

export function named(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered output`);
  return found;
}

export function ofKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((object) => object.kind === kind);
}

export function workloads(objects: readonly KubeObject[]): Workload[] {
  return objects
    .filter((object) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind))
    .map((object) => {
      const spec = object.spec as {
        replicas?: number;
        selector: Selector;
        template: { metadata: { labels?: Record<string, string> }; spec: PodSpec };
      };
      return {
        object,
        replicas: spec.replicas ?? 1,
        selector: spec.selector,
        podLabels: spec.template.metadata.labels ?? {},
        pod: spec.template.spec,
      };
    });
}

export function workload(objects: readonly KubeObject[], name: string): Workload {
  const found = workloads(objects).find((w) => w.object.metadata.name === name);
  if (found === undefined) throw new Error(`no workload ${name} in the rendered output`);
  return found;
}

export function onlyContainer(w: Workload): Container {
  const [container, ...rest] = w.pod.containers;
  if (container === undefined || rest.length > 0)
    throw new Error(`${w.object.metadata.name} should run exactly one container`);
  return container;
}

export function portNamed(container: Container, name: string): number | undefined {
  return container.ports?.find((port) => port.name === name)?.containerPort;
}

/** Every environment variable name a container sees: env entries plus the keys of envFrom ConfigMaps. */
export function envNames(container: Container, objects: readonly KubeObject[]): string[] {
  const names = (container.env ?? []).map((entry) => entry.name);
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef !== undefined) {
      const data = (named(objects, 'ConfigMap', source.configMapRef.name).data ?? {}) as Record<string, string>;
      names.push(...Object.keys(data));
    }
    if (source.secretRef !== undefined)
      throw new Error('envFrom secretRef hides variable names from review; use env with secretKeyRef');
  }
  return names;
}

/** The value a container gets for a variable from a literal or an envFrom ConfigMap (env wins, as in Kubernetes). */
export function envValue(container: Container, objects: readonly KubeObject[], name: string): string | undefined {
  const direct = container.env?.find((entry) => entry.name === name);
  if (direct !== undefined) return direct.value;
  let value: string | undefined;
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef === undefined) continue;
    const data = (named(objects, 'ConfigMap', source.configMapRef.name).data ?? {}) as Record<string, string>;
    if (name in data) value = data[name];
  }
  return value;
}

/** Images of every container anywhere in an object (pod templates and k6 TestRun pods). */
export function imagesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) imagesIn(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'image' && typeof inner === 'string') found.push(inner);
      else imagesIn(inner, found);
    }
  }
  return found;
}

export interface OpenApiSchema {
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  enum?: unknown[];
  additionalProperties?: OpenApiSchema;
}

/**
 * What in `value` an API server validating against `schema` (a CRD's OpenAPI v3 schema)
 * would refuse or prune: unknown fields, missing required ones, wrong types and enums.
 */
export function schemaProblems(value: unknown, schema: OpenApiSchema, path: string): string[] {
  if (schema.enum && !schema.enum.includes(value))
    return [`${path}: ${String(value)} not in ${schema.enum.join(', ')}`];
  if (schema.type === 'object' && value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const out = (schema.required ?? []).filter((key) => !(key in record)).map((key) => `${path}.${key}: required`);
    for (const [key, inner] of Object.entries(record)) {
      const child = schema.properties?.[key] ?? schema.additionalProperties;
      if (child === undefined) out.push(`${path}.${key}: not in the schema (the API server would prune it)`);
      else out.push(...schemaProblems(inner, child, `${path}.${key}`));
    }
    return out;
  }
  const actual = Array.isArray(value)
    ? 'array'
    : typeof value === 'number'
      ? Number.isInteger(value)
        ? 'integer'
        : 'number'
      : typeof value;
  if (schema.type && schema.type !== actual && !(schema.type === 'number' && actual === 'integer'))
    return [`${path}: ${actual}, expected ${schema.type}`];
  return [];
}
