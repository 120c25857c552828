// The client-node adapter at the HTTP level, against a recording HTTP server on loopback:
// the paths, verbs, Content-Types and bodies it sends, and how it maps 404/409/429. It
// proves the wire format, not apiserver semantics (admission, PDBs, RBAC), which the
// real-apiserver suite covers.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubeCluster, POLICY_LABELS, REPORTING_CONTROLLER } from './kube.ts';

interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
}

let server: Server;
let recorded: Recorded[] = [];
/** Answers by "METHOD path-prefix"; the default is 200 with an empty object. */
let answers: Record<string, { status: number; body: unknown }> = {};

async function bodyOf(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

let cluster: KubeCluster;
beforeAll(async () => {
  server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const path = request.url ?? '';
      recorded.push({ method: request.method ?? '', path, contentType: request.headers['content-type'], body });
      const key = Object.keys(answers).find((k) => `${request.method} ${path}`.startsWith(k));
      const answer = key === undefined ? { status: 200, body: {} } : answers[key];
      response
        .writeHead(answer?.status ?? 200, { 'content-type': 'application/json' })
        .end(JSON.stringify(answer?.body ?? {}));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'test', token: 'not-a-real-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  cluster = new KubeCluster(config, 'realtime', 'controller-0');
});
beforeEach(() => {
  recorded = [];
  answers = {};
});
afterAll(() => {
  server.close();
});

describe('KubeCluster on the wire', () => {
  it('evicts through the Eviction subresource (policy/v1), so PodDisruptionBudgets apply', async () => {
    expect(await cluster.evictPod('rt-1', 'uid-1')).toBe('evicted');
    expect(recorded[0]).toMatchObject({ method: 'POST', path: '/api/v1/namespaces/realtime/pods/rt-1/eviction' });
    expect(recorded[0]?.body).toMatchObject({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'rt-1', namespace: 'realtime' },
      // Only the pod judged stuck: a same-named replacement fails the precondition.
      deleteOptions: { preconditions: { uid: 'uid-1' } },
    });
  });

  it('deletes only the pod with the UID it judged stuck', async () => {
    await cluster.deletePod('rt-1', 'uid-1');
    expect(recorded[0]).toMatchObject({
      method: 'DELETE',
      path: '/api/v1/namespaces/realtime/pods/rt-1',
      body: { preconditions: { uid: 'uid-1' } },
    });
  });

  it('reads a 429 on eviction as "refused", and other errors as errors', async () => {
    answers = {
      'POST /api/v1/namespaces/realtime/pods/rt-1/eviction': {
        status: 429,
        body: { kind: 'Status', code: 429, reason: 'TooManyRequests' },
      },
    };
    expect(await cluster.evictPod('rt-1', undefined)).toBe('refused');
    answers = {
      'POST /api/v1/namespaces/realtime/pods/rt-1/eviction': { status: 403, body: { kind: 'Status', code: 403 } },
    };
    await expect(cluster.evictPod('rt-1', undefined)).rejects.toThrow();
  });

  it('rollout-restart patches the owning Deployment template with a strategic-merge patch', async () => {
    answers = {
      'GET /api/v1/namespaces/realtime/pods/rt-1': {
        status: 200,
        body: {
          metadata: {
            name: 'rt-1',
            ownerReferences: [
              { kind: 'ReplicaSet', name: 'rt-5d9', controller: true, apiVersion: 'apps/v1', uid: 'u1' },
            ],
          },
        },
      },
      'GET /apis/apps/v1/namespaces/realtime/replicasets/rt-5d9': {
        status: 200,
        body: {
          metadata: {
            name: 'rt-5d9',
            ownerReferences: [{ kind: 'Deployment', name: 'rt', controller: true, apiVersion: 'apps/v1', uid: 'u2' }],
          },
        },
      },
    };
    expect(await cluster.restartOwningDeployment('rt-1', new Date('2026-01-02T03:04:05Z'))).toBe('rt');
    const patch = recorded.find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({
      path: '/apis/apps/v1/namespaces/realtime/deployments/rt',
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(patch?.body).toEqual({
      spec: {
        template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-02T03:04:05.000Z' } } },
      },
    });
  });

  it('writes events.k8s.io/v1 Events with a microsecond eventTime and the reporting controller', async () => {
    await cluster.recordEvent({
      regarding: { kind: 'Pod', name: 'rt-1' },
      related: { kind: 'StreamRemediationPolicy', name: 'realtime' },
      reason: 'StuckConsumerRemediated',
      action: 'Evict',
      note: 'n',
      type: 'Warning',
    });
    expect(recorded[0]).toMatchObject({ method: 'POST', path: '/apis/events.k8s.io/v1/namespaces/realtime/events' });
    const body = recorded[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: 'controller-0',
      regarding: { apiVersion: 'v1', kind: 'Pod', name: 'rt-1', namespace: 'realtime' },
      related: { apiVersion: 'realtime.trayb.io/v1alpha1', kind: 'StreamRemediationPolicy', name: 'realtime' },
    });
    // A full name, not generateName "rt-1.": the apiserver rejects a generateName ending in a dot.
    expect((body['metadata'] as { name?: string; generateName?: string }).generateName).toBeUndefined();
    expect((body['metadata'] as { name: string }).name).toMatch(/^rt-1\.[0-9a-f]+$/);
    // The apiserver parses eventTime as RFC 3339 with exactly six fractional digits.
    expect(body['eventTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('counts a repeated Event on the same object, as a series, instead of writing another', async () => {
    const refused = {
      regarding: { kind: 'Pod', name: 'rt-2' },
      related: undefined,
      reason: 'RemediationRefused',
      action: 'Evict',
      note: 'eviction refused by a PodDisruptionBudget (429); backing off',
      type: 'Warning',
    } as const;
    await cluster.recordEvent(refused);
    await cluster.recordEvent(refused);
    await cluster.recordEvent(refused);
    await cluster.recordEvent({ ...refused, note: 'another note' });
    const name = (recorded[0]?.body as { metadata: { name: string } }).metadata.name;
    expect(recorded.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /apis/events.k8s.io/v1/namespaces/realtime/events',
      `PATCH /apis/events.k8s.io/v1/namespaces/realtime/events/${name}`,
      `PATCH /apis/events.k8s.io/v1/namespaces/realtime/events/${name}`,
      'POST /apis/events.k8s.io/v1/namespaces/realtime/events',
    ]);
    expect(recorded[2]).toMatchObject({
      contentType: 'application/merge-patch+json',
      body: { series: { count: 3 } },
    });
    expect((recorded[2]?.body as { series: { lastObservedTime: string } }).series.lastObservedTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );

    // The Event expired meanwhile (404 on the patch): a new one is written.
    recorded = [];
    answers = { 'PATCH /apis/events.k8s.io': { status: 404, body: { kind: 'Status', code: 404 } } };
    await cluster.recordEvent(refused);
    expect(recorded.map((r) => r.method)).toEqual(['PATCH', 'POST']);
  });

  it('patches the policy status subresource with a merge patch', async () => {
    await cluster.updatePolicyStatus('realtime', { maxPending: 3 });
    expect(recorded[0]).toMatchObject({
      method: 'PATCH',
      path: '/apis/realtime.trayb.io/v1alpha1/namespaces/realtime/streamremediationpolicies/realtime/status',
      contentType: 'application/merge-patch+json',
      body: { status: { maxPending: 3 } },
    });
  });

  it('creates the policy with the controller labels, and reads a 409 as "already there"', async () => {
    expect(await cluster.createPolicy('realtime', {})).toBe(true);
    expect(recorded[0]).toMatchObject({
      method: 'POST',
      path: '/apis/realtime.trayb.io/v1alpha1/namespaces/realtime/streamremediationpolicies',
    });
    expect(recorded[0]?.body).toEqual({
      apiVersion: 'realtime.trayb.io/v1alpha1',
      kind: 'StreamRemediationPolicy',
      metadata: { name: 'realtime', namespace: 'realtime', labels: POLICY_LABELS },
      spec: {},
    });
    answers = { 'POST /apis/realtime.trayb.io': { status: 409, body: { kind: 'Status', code: 409 } } };
    expect(await cluster.createPolicy('realtime', {})).toBe(false);
  });

  it('reads a missing policy or lease as undefined and a lost lease race as false', async () => {
    const notFound = { status: 404, body: { kind: 'Status', code: 404 } };
    answers = {
      'GET /apis/realtime.trayb.io': notFound,
      'GET /apis/coordination.k8s.io': notFound,
      'PUT /apis/coordination.k8s.io': { status: 409, body: { kind: 'Status', code: 409 } },
    };
    expect(await cluster.readPolicy('realtime')).toBeUndefined();
    expect(await cluster.readLease('ctl')).toBeUndefined();
    expect(
      await cluster.replaceLease('ctl', {
        holderIdentity: 'me',
        acquireTime: 0,
        renewTime: 0,
        leaseDurationMs: 15_000,
        leaseTransitions: 0,
        resourceVersion: '1',
      }),
    ).toBe(false);
  });

  it('writes the Lease with holder, duration, microsecond times and the version it read', async () => {
    await cluster.replaceLease('ctl', {
      holderIdentity: 'controller-0',
      acquireTime: Date.UTC(2026, 0, 1),
      renewTime: Date.UTC(2026, 0, 1, 0, 0, 5),
      leaseDurationMs: 15_000,
      leaseTransitions: 4,
      resourceVersion: '42',
    });
    expect(recorded[0]).toMatchObject({
      method: 'PUT',
      path: '/apis/coordination.k8s.io/v1/namespaces/realtime/leases/ctl',
    });
    expect(recorded[0]?.body).toMatchObject({
      metadata: { name: 'ctl', resourceVersion: '42' },
      spec: {
        holderIdentity: 'controller-0',
        leaseDurationSeconds: 15,
        leaseTransitions: 4,
        renewTime: '2026-01-01T00:00:05.000000Z',
      },
    });
  });

  it('lists pods by label selector and reads readiness and termination', async () => {
    answers = {
      'GET /api/v1/namespaces/realtime/pods': {
        status: 200,
        body: {
          items: [
            { metadata: { name: 'rt-1', uid: 'uid-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
            {
              metadata: { name: 'rt-2', uid: 'uid-2', deletionTimestamp: '2026-01-01T00:00:00Z' },
              status: { conditions: [{ type: 'Ready', status: 'False' }] },
            },
          ],
        },
      },
    };
    expect(await cluster.listPods('app=rt')).toEqual([
      { name: 'rt-1', uid: 'uid-1', ready: true, terminating: false },
      { name: 'rt-2', uid: 'uid-2', ready: false, terminating: true },
    ]);
    expect(recorded[0]?.path).toBe('/api/v1/namespaces/realtime/pods?labelSelector=app%3Drt');
  });
});
