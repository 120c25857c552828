// The controller process's probes, as the kubelet sees them: /healthz stays 200 while the
// poll loop turns; when the loop wedges on a call that never returns (here an API server that
// accepts connections and never answers), /healthz turns 503 and names the loop, while the
// metrics port still answers, which is all a tcpSocket probe would have checked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startControllerProcess, type ServiceProcess } from '#test-support/entry-processes';
import { waitUntil } from '#test-support/prometheus';
import { testStream } from '#test-support/instance';

const home = mkdtempSync(join(tmpdir(), 'controller-probes-'));
const processes: ServiceProcess[] = [];
const silentSockets = new Set<Socket>();
// Accepts every connection and never says a byte: each request to it hangs.
const silentApi = createServer((socket) => void silentSockets.add(socket));

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const socket of silentSockets) socket.destroy();
  silentApi.close();
  rmSync(home, { recursive: true, force: true });
});

const POLL_MS = 300;
// The poll loop's liveness bound for this interval: observe timeout (1 s) + ten intervals.
const BOUND_MS = 1000 + 10 * POLL_MS;

async function probe(process: ServiceProcess, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${process.metricsAddress}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('controller probes', () => {
  it('a controller whose loop turns is ready and stays live', async () => {
    const controller = await startControllerProcess(
      {
        REDIS_URL: inject('redisUrl'),
        REALTIME_STREAM_KEY: testStream().key,
        CONTROLLER_POLL_INTERVAL_MS: String(POLL_MS),
      },
      home,
    );
    processes.push(controller);
    expect(await probe(controller, '/readyz')).toMatchObject({ status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 2 * BOUND_MS));
    expect(await probe(controller, '/healthz')).toEqual({ status: 200, body: 'every loop is making progress\n' });
  });

  it('a controller whose poll loop hangs on the API fails liveness, though its port still answers', async () => {
    silentApi.listen(0, '127.0.0.1');
    await once(silentApi, 'listening');
    const address = silentApi.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const kubeconfig = join(home, 'silent-kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: silent, cluster: {server: "https://127.0.0.1:' +
          address.port +
          '", insecure-skip-tls-verify: true}}]',
        'users: [{name: silent, user: {token: not-a-secret}}]',
        'contexts: [{name: silent, context: {cluster: silent, user: silent}}]',
        'current-context: silent',
      ].join('\n'),
    );
    const controller = await startControllerProcess(
      {
        KUBECONFIG: kubeconfig,
        REDIS_URL: inject('redisUrl'),
        REALTIME_STREAM_KEY: testStream().key,
        CONTROLLER_POLL_INTERVAL_MS: String(POLL_MS),
      },
      home,
      '/metrics', // never ready: its first poll never finishes
    );
    processes.push(controller);
    await waitUntil('/healthz to fail', 10 * BOUND_MS, async () =>
      (await probe(controller, '/healthz')).status === 503 ? true : undefined,
    );
    const { body } = await probe(controller, '/healthz');
    expect(body).toMatch(/^poll loop: no round finished \d+ ms ago \(bound 4000 ms\)/);
    expect(await probe(controller, '/readyz')).toMatchObject({ status: 503 });
    expect((await probe(controller, '/metrics')).status).toBe(200);
  });
});
