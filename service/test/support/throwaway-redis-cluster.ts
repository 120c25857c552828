// A private Redis Cluster on loopback: three primaries and three replicas, each a
// redis-server child process on free ports (client port and cluster bus port), joined with
// `redis-cli --cluster create --cluster-replicas 1`. Tests fail a primary over in the middle
// of their traffic (CLUSTER FAILOVER on its replica, as an operator or a managed service
// does for maintenance) and check the service follows.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { redisAnswers } from './throwaway-redis.ts';

export interface ClusterNode {
  readonly port: number;
  readonly pid: number | undefined;
}

export interface ThrowawayRedisCluster {
  /** Seeds as REDIS_CLUSTER_NODES takes them: "127.0.0.1:p1,127.0.0.1:p2,…". */
  readonly seeds: string;
  readonly nodes: readonly ClusterNode[];
  /** The port of the primary that serves `key`'s slot now. */
  primaryFor(key: string): Promise<number>;
  /**
   * Promotes the replica of `key`'s primary with CLUSTER FAILOVER (the coordinated kind: the
   * primary stops taking writes until its replica has them all) and resolves with the new
   * primary's port once every node agrees on it.
   */
  failover(key: string): Promise<number>;
  stop(): Promise<void>;
}

const until = async <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** One node's view: CLUSTER NODES lines as { port, role, primaryId, id, slots }. */
function parseNodes(text: string) {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...slots] = line.split(' ');
      return {
        id: id as string,
        port: Number(/:(\d+)@/.exec(address ?? '')?.[1]),
        primary: (flags ?? '').includes('master'),
        primaryId: primaryId as string,
        slots,
      };
    });
}

export async function startThrowawayRedisCluster(): Promise<ThrowawayRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'throwaway-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const connections = new Map<number, Redis>();
  const admin = (port: number) => {
    let connection = connections.get(port);
    if (connection === undefined) {
      connection = new Redis({ host: '127.0.0.1', port, protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });
      connection.on('error', () => undefined);
      connections.set(port, connection);
    }
    return connection;
  };
  const stop = async () => {
    for (const connection of connections.values()) connection.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const busPort = await freePort();
      ports.push(port);
      // Each node keeps its nodes.conf in its own file; nothing else touches the disk.
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-port',
          String(busPort),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--loglevel',
          'warning',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
    }
    for (const port of ports)
      await until(`node ${port} to answer`, 10_000, async () => (await redisAnswers('127.0.0.1', port)) || undefined);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}${created.stderr}`);
    // Ready when every node sees all slots served and every replica has synced with its primary.
    await until('the cluster to be ok on every node', 30_000, async () => {
      for (const port of ports) {
        const info = (await admin(port).call('CLUSTER', 'INFO')) as string;
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return undefined;
        const replication = await admin(port).info('replication');
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return undefined;
      }
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }

  const primaryFor = async (key: string): Promise<number> => {
    const slot = Number(await admin(ports[0] as number).call('CLUSTER', 'KEYSLOT', key));
    const nodes = parseNodes((await admin(ports[0] as number).call('CLUSTER', 'NODES')) as string);
    const owner = nodes.find(
      (node) =>
        node.primary &&
        node.slots.some((range) => {
          const [from, to] = range.split('-').map(Number);
          return slot >= (from as number) && slot <= (to ?? from ?? -1);
        }),
    );
    if (owner === undefined) throw new Error(`no primary serves slot ${slot}`);
    return owner.port;
  };

  return {
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    nodes: ports.map((port, i) => ({ port, pid: children[i]?.pid })),
    primaryFor,
    failover: async (key) => {
      const old = await primaryFor(key);
      const nodes = parseNodes((await admin(old).call('CLUSTER', 'NODES')) as string);
      const oldId = nodes.find((node) => node.port === old)?.id;
      const replica = nodes.find((node) => !node.primary && node.primaryId === oldId);
      if (replica === undefined) throw new Error(`the primary on ${old} has no replica`);
      await admin(replica.port).call('CLUSTER', 'FAILOVER');
      await until('every node to see the promoted replica', 30_000, async () => {
        for (const port of ports) {
          const view = parseNodes((await admin(port).call('CLUSTER', 'NODES')) as string);
          if (!view.find((node) => node.port === replica.port)?.primary) return undefined;
        }
        return true;
      });
      return replica.port;
    },
    stop,
  };
}
