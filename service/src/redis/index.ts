// Redis connections for both processes (the service's bus and the controller): standalone
// (redis://, rediss://), Sentinel or Cluster, with reconnection, backoff and (in a cluster)
// slot redirection left to ioredis so readers and writers heal by themselves.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/common.ts';

export type { Redis } from 'ioredis';
export { hashedPart, keySlot } from './key-slot.ts';

/** One connection to Redis, whatever its topology: the same commands on either. */
export type RedisClient = Redis | Cluster;

export interface ConnectionOptions {
  /** Shown in CLIENT LIST, so an operator can tell the reader from the publisher. */
  readonly name: string;
  /**
   * Queue commands while disconnected. Off for the publisher, so a producer gets an
   * immediate error (503) instead of waiting on an outage.
   */
  readonly offlineQueue: boolean;
}

/** Reconnect delay: exponential from 50 ms, capped at 2 s, with jitter. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * Calls `listener` whenever a connection that may have had a command in flight is lost: the
 * connection itself, or in a cluster any node's. ioredis re-sends such commands on a new
 * connection, so the reply a caller finally gets may not be the only one Redis produced.
 */
export function onConnectionLost(client: RedisClient, listener: () => void): void {
  client.on('close', listener);
  if (client instanceof Cluster) client.on('-node', listener);
}

export function createRedis(config: RedisConfig, options: ConnectionOptions): RedisClient {
  const common: RedisOptions = {
    connectionName: options.name,
    protocol: 2,
    enableOfflineQueue: options.offlineQueue,
    maxRetriesPerRequest: options.offlineQueue ? null : 1,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
    // CLIENT SETINFO (library name and version) is not in the ACL users' commands
    // (redis/acl.ts); the connection name already tells an operator who is who.
    disableClientInfo: true,
  };
  if (config.mode === 'standalone')
    return new Redis(config.url, {
      ...common,
      // Options win over what the URL says; only what is configured is set.
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      // rediss:// turns TLS on with the system CAs; a configured CA replaces them. The server's
      // name is checked against its certificate either way.
      ...(config.tlsCa !== undefined && /^rediss:/i.test(config.url) ? { tls: { ca: config.tlsCa } } : {}),
    });
  if (config.mode === 'cluster')
    return new Cluster(
      config.nodes.map((node) => ({ host: node.host, port: node.port })),
      {
        // The node connections; the cluster object reconnects and re-reads the slot map itself.
        redisOptions: {
          connectionName: options.name,
          protocol: 2,
          disableClientInfo: true,
          maxRetriesPerRequest: common.maxRetriesPerRequest ?? null,
          ...(config.password === undefined ? {} : { password: config.password }),
        },
        enableOfflineQueue: options.offlineQueue,
        clusterRetryStrategy: reconnectDelay,
        lazyConnect: true,
      },
    );
  return new Redis({
    ...common,
    sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: config.name,
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
    // A CA means TLS throughout: to the Sentinels, and to the master they name.
    ...(config.tlsCa === undefined
      ? {}
      : { tls: { ca: config.tlsCa }, sentinelTLS: { ca: config.tlsCa }, enableTLSForSentinelMode: true }),
  });
}
