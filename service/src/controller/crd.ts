// The StreamRemediationPolicy CustomResourceDefinition, generated from the TypeBox schemas
// in policy.ts. TypeBox speaks JSON Schema; Kubernetes wants a "structural" OpenAPI v3
// subset, so a few constructs are rewritten: enums get their type, unions of literals become enums and records
// become additionalProperties. `npm run generate` writes the YAML that k8s/ commits.
import { stringify } from 'yaml';
import { POLICY_GROUP, POLICY_KIND, POLICY_PLURAL, POLICY_VERSION, PolicySpec, PolicyStatus } from './policy.ts';

export const CRD_PATH = 'k8s/base/crd/realtime.trayb.io_streamremediationpolicies.yaml';

type Schema = Record<string, unknown>;

function isConst(schema: unknown): schema is { const: string } {
  return typeof schema === 'object' && schema !== null && typeof (schema as Schema)['const'] === 'string';
}

/** Rewrites a TypeBox JSON Schema into a Kubernetes structural schema. */
export function toStructural(schema: Schema): Schema {
  const out: Schema = {};
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && schema['type'] === undefined && enumValues.every((v) => typeof v === 'string'))
    out['type'] = 'string';
  const anyOf = schema['anyOf'];
  if (Array.isArray(anyOf) && anyOf.every(isConst)) {
    out['type'] = 'string';
    out['enum'] = anyOf.map((s) => s.const);
  }
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'anyOf' && out['enum'] !== undefined) continue;
    if (key === 'required' && Array.isArray(value) && value.length === 0) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([name, child]) => [name, toStructural(child)]),
      );
    } else if (key === 'patternProperties') {
      const [child] = Object.values(value as Record<string, Schema>);
      out['additionalProperties'] = toStructural(child ?? {});
    } else if (key === 'items') {
      out[key] = toStructural(value as Schema);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function printerColumn(name: string, type: string, jsonPath: string, description?: string) {
  return description === undefined ? { name, type, jsonPath } : { name, type, jsonPath, description };
}

export function policyCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POLICY_PLURAL}.${POLICY_GROUP}` },
    spec: {
      group: POLICY_GROUP,
      scope: 'Namespaced',
      names: {
        kind: POLICY_KIND,
        listKind: `${POLICY_KIND}List`,
        plural: POLICY_PLURAL,
        singular: POLICY_KIND.toLowerCase(),
        shortNames: ['srp'],
      },
      versions: [
        {
          name: POLICY_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            printerColumn('Pending', 'integer', '.status.maxPending', 'Highest pending count of any consumer group'),
            printerColumn(
              'Oldest-Age',
              'number',
              '.status.maxOldestPendingAgeSeconds',
              'Oldest pending age of any group, in seconds',
            ),
            printerColumn('Lag', 'integer', '.status.maxLag', 'Highest lag of any group'),
            printerColumn('Last-Action', 'string', '.status.lastAction', 'Last remediation'),
            printerColumn(
              'Ready',
              'string',
              '.status.conditions[?(@.type=="Ready")].status',
              'Observing the stream successfully',
            ),
            printerColumn('Age', 'date', '.metadata.creationTimestamp'),
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'StreamRemediationPolicy tells the stream remediation controller how to watch a Redis Stream and when it may restart a stuck consumer pod.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructural(PolicySpec as unknown as Schema),
                status: toStructural(PolicyStatus as unknown as Schema),
              },
            },
          },
        },
      ],
    },
  };
}

export function policyCrdYaml(): string {
  return stringify(policyCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
