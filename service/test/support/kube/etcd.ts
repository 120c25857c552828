// A private single-member etcd on free loopback ports with its data in a temporary folder:
// the storage kube-apiserver needs. Debian's etcd-server package provides the binary
// (ETCD_BIN overrides it).
import { get } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';
import { spawnLogged, waitUntilReady, type Child } from './child.ts';

export interface TestEtcd {
  readonly url: string;
  readonly child: Child;
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(`${url}/health`, { timeout: 1_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(response.statusCode === 200 && body.includes('"health":"true"')));
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

export async function startEtcd(dir: string): Promise<TestEtcd> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = await spawnLogged(
    'etcd',
    process.env['ETCD_BIN'] ?? 'etcd',
    [
      '--name',
      'harness',
      '--data-dir',
      join(dir, 'etcd-data'),
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `harness=${peer}`,
      '--initial-cluster-state',
      'new',
      '--log-level',
      'warn',
    ],
    join(dir, 'etcd.log'),
    'Install it (Debian: apt-get install etcd-server) or set ETCD_BIN.',
  );
  try {
    await waitUntilReady(child, () => healthy(url), 30_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, child };
}
