// The settings the service and the controller both read, declared once so the two can never
// read REDIS_URL or the stream differently: the Redis connection (standalone, Sentinel or
// Cluster) and the stream (key, consumer-group prefix, MAXLEN). Each process spreads them
// into its own spec.
import { readFileSync } from 'node:fs';
import { ConfigError, int, list, optional, str, type EnvSpec } from './env.ts';

const POSITIVE = { min: 1 };

export const redisEnv = {
  REDIS_URL: str(
    'Redis address, redis:// or rediss:// (TLS); ignored when REDIS_SENTINELS or REDIS_CLUSTER_NODES is set',
    'redis://127.0.0.1:6379',
    /^rediss?:\/\//,
  ),
  REDIS_SENTINELS: list('Comma-separated Sentinel host:port list; enables Sentinel failover'),
  REDIS_SENTINEL_NAME: str('Sentinel master name', 'mymaster'),
  REDIS_CLUSTER_NODES: list(
    'Comma-separated Redis Cluster seed nodes host:port; switches to Redis Cluster (keys one step writes together must share a hash slot)',
  ),
  REDIS_USERNAME: optional(str('Redis ACL user to connect as when it is not in REDIS_URL (default: the default user)')),
  REDIS_PASSWORD: optional(str('Password for the Redis data nodes when it is not in REDIS_URL')),
  REDIS_TLS_CA_FILE: optional(
    str(
      'PEM file of the CA that signs the Redis server certificates, for rediss:// (default: the system CAs); with REDIS_SENTINELS, setting it turns on TLS to the Sentinels and the data nodes',
    ),
  ),
  REDIS_SENTINEL_PASSWORD: optional(str('Password for the Sentinels themselves')),
} satisfies EnvSpec;

/** The stream the bus writes and every reader reads. */
export const streamEnv = {
  REALTIME_STREAM_KEY: str('Redis Stream that carries realtime events', 'trayb:events:realtime'),
  REALTIME_STREAM_GROUP: str(
    'Consumer group prefix; each instance reads through its own group <prefix>:<POD_NAME>',
    'realtime-consumers',
  ),
  REALTIME_STREAM_MAXLEN: int(
    'Approximate cap on stream length (XADD MAXLEN ~); bounds the resume window',
    5000,
    POSITIVE,
  ),
} satisfies EnvSpec;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Who the connection authenticates as, and whom it trusts over TLS; all optional. */
export interface RedisCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PEM text of the CA a rediss:// server certificate must chain to. */
  readonly tlsCa?: string | undefined;
}

export type RedisConfig =
  | ({ readonly mode: 'standalone'; readonly url: string } & RedisCredentials)
  | { readonly mode: 'cluster'; readonly nodes: readonly HostPort[]; readonly password: string | undefined }
  | {
      readonly mode: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly name: string;
      readonly password: string | undefined;
      readonly sentinelPassword: string | undefined;
      /** PEM text of the CA; when set, the Sentinels and the data nodes are reached over TLS. */
      readonly tlsCa?: string | undefined;
    };

export interface StreamConfig {
  readonly key: string;
  readonly groupPrefix: string;
  readonly maxLen: number;
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`REDIS_TLS_CA_FILE: cannot read ${path}: ${(error as Error).message}`]);
  }
}

function hostPort(entry: string, defaultPort: number): HostPort {
  const match = /^(.+):(\d+)$/.exec(entry);
  return match ? { host: match[1] ?? entry, port: Number(match[2]) } : { host: entry, port: defaultPort };
}

export function redisConfigFrom(values: {
  REDIS_URL: string;
  REDIS_SENTINELS: string[];
  REDIS_SENTINEL_NAME: string;
  REDIS_CLUSTER_NODES: string[];
  REDIS_USERNAME: string | undefined;
  REDIS_PASSWORD: string | undefined;
  REDIS_TLS_CA_FILE: string | undefined;
  REDIS_SENTINEL_PASSWORD: string | undefined;
}): RedisConfig {
  if (values.REDIS_CLUSTER_NODES.length > 0)
    return {
      mode: 'cluster',
      nodes: values.REDIS_CLUSTER_NODES.map((entry) => hostPort(entry, 6379)),
      password: values.REDIS_PASSWORD,
    };
  if (values.REDIS_SENTINELS.length === 0)
    return {
      mode: 'standalone',
      url: values.REDIS_URL,
      ...(values.REDIS_USERNAME === undefined ? {} : { username: values.REDIS_USERNAME }),
      ...(values.REDIS_PASSWORD === undefined ? {} : { password: values.REDIS_PASSWORD }),
      ...(values.REDIS_TLS_CA_FILE === undefined ? {} : { tlsCa: readCaFile(values.REDIS_TLS_CA_FILE) }),
    };
  return {
    mode: 'sentinel',
    sentinels: values.REDIS_SENTINELS.map((entry) => hostPort(entry, 26379)),
    name: values.REDIS_SENTINEL_NAME,
    password: values.REDIS_PASSWORD,
    sentinelPassword: values.REDIS_SENTINEL_PASSWORD,
    ...(values.REDIS_TLS_CA_FILE === undefined ? {} : { tlsCa: readCaFile(values.REDIS_TLS_CA_FILE) }),
  };
}
