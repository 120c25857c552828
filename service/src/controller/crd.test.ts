// The CRD generated from the TypeBox schema is valid as a Kubernetes structural schema (no
// JSON Schema constructs the apiserver rejects). k8s/test/generated.test.ts keeps the
// committed YAML equal to it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_PATH, policyCrd, policyCrdYaml, toStructural } from './crd.ts';

const root = resolve(import.meta.dirname, '../../..');

function walk(node: unknown, visit: (schema: Record<string, unknown>, path: string) => void, path = ''): void {
  if (typeof node !== 'object' || node === null) return;
  visit(node as Record<string, unknown>, path);
  for (const [key, child] of Object.entries(node)) walk(child, visit, `${path}/${key}`);
}

describe('StreamRemediationPolicy CRD', () => {
  it('is listed by the crd kustomization', () => {
    const kustomization = parse(readFileSync(resolve(root, 'k8s/base/crd/kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    expect(kustomization.resources).toContain(CRD_PATH.split('/').at(-1));
  });

  it('uses only structural-schema constructs, every property typed', () => {
    const problems: string[] = [];
    walk(policyCrd(), (schema, path) => {
      for (const banned of ['anyOf', 'oneOf', 'const', 'patternProperties', '$id', '$ref'])
        if (banned in schema) problems.push(`${path}: ${banned}`);
      if (schema['properties'] !== undefined && schema['additionalProperties'] !== undefined)
        problems.push(`${path}: properties with additionalProperties`);
      if (path.endsWith('/properties')) {
        for (const [name, child] of Object.entries(schema))
          if ((child as Record<string, unknown>)['type'] === undefined) problems.push(`${path}/${name}: no type`);
      }
    });
    expect(problems).toEqual([]);
  });

  it('turns enums and records into their Kubernetes forms', () => {
    expect(
      toStructural({
        anyOf: [
          { type: 'string', const: 'a' },
          { type: 'string', const: 'b' },
        ],
        description: 'd',
      }),
    ).toEqual({ type: 'string', enum: ['a', 'b'], description: 'd' });
    expect(toStructural({ type: 'object', patternProperties: { '^.*$': { type: 'string' } } })).toEqual({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
  });

  it('describes every field, so kubectl explain answers for each', () => {
    const undescribed: string[] = [];
    walk(policyCrd(), (schema, path) => {
      if (!path.endsWith('/properties')) return;
      for (const [name, child] of Object.entries(schema)) {
        // apiVersion, kind and metadata are described by Kubernetes itself.
        if (path.endsWith('openAPIV3Schema/properties') && ['apiVersion', 'kind', 'metadata'].includes(name)) continue;
        if ((child as Record<string, unknown>)['description'] === undefined) undescribed.push(`${path}/${name}`);
      }
    });
    expect(undescribed).toEqual([]);
  });

  it('keeps one condition per type: a list map keyed by type', () => {
    let conditions: Record<string, unknown> | undefined;
    walk(policyCrd(), (schema, path) => {
      if (path.endsWith('/status/properties/conditions')) conditions = schema;
    });
    expect(conditions).toMatchObject({
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
    // A map key must be required, or the apiserver refuses the schema.
    expect((conditions?.['items'] as { required?: string[] }).required).toContain('type');
  });

  it('has a status subresource and the at-a-glance printer columns', () => {
    const version = (
      policyCrd() as {
        spec: { versions: { subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
      }
    ).spec.versions[0];
    expect(version?.subresources).toEqual({ status: {} });
    expect(version?.additionalPrinterColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Pending', 'Oldest-Age', 'Lag', 'Last-Action']),
    );
    const status = (
      policyCrd() as {
        spec: {
          versions: {
            schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } };
          }[];
        };
      }
    ).spec.versions[0]?.schema.openAPIV3Schema.properties.status.properties;
    for (const column of version?.additionalPrinterColumns ?? []) {
      const field = /^\.status\.(\w+)/.exec(column.jsonPath)?.[1];
      if (field !== undefined) expect(status, `printer column ${column.name}`).toHaveProperty(field);
    }
  });
});

it('the YAML has no anchors or aliases (some tooling mishandles them)', () => {
  expect(policyCrdYaml()).not.toMatch(/[&*]a\d+\b/);
});
