// Redis connections for both processes (the service's bus and the controller): standalone
// (redis://, rediss://) or Sentinel, with reconnection and backoff left to ioredis so readers
// and writers heal by themselves.
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/common.ts';

export type { Redis } from 'ioredis';

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

export function createRedis(config: RedisConfig, options: ConnectionOptions): Redis {
  const common: RedisOptions = {
    connectionName: options.name,
    protocol: 2,
    enableOfflineQueue: options.offlineQueue,
    maxRetriesPerRequest: options.offlineQueue ? null : 1,
    retryStrategy: reconnectDelay,
    lazyConnect: true,
  };
  if (config.mode === 'standalone') return new Redis(config.url, common);
  return new Redis({
    ...common,
    sentinels: config.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: config.name,
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
  });
}
