// Configuration is validated once, at start, with every problem reported together.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../src/config/index.ts';

describe('service configuration', () => {
  it('applies the runbook defaults and derives the per-instance group from POD_NAME', () => {
    const config = loadServiceConfig({ POD_NAME: 'web-7' });
    expect(config.stream).toMatchObject({
      key: 'trayb:events:realtime',
      group: 'realtime-consumers:web-7',
      consumer: 'web-7',
      maxLen: 5000,
      readCount: 50,
      readBlockMs: 5000,
    });
    expect(config.sse).toMatchObject({
      heartbeatIntervalMs: 15000,
      retryMs: 5000,
      queueLimit: 100,
      overflowPolicy: 'drop',
    });
    expect([config.port, config.metricsPort]).toEqual([4001, 9464]);
    expect(config.redis).toEqual({ mode: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(config.auth.tokenCache).toEqual({ ttlMs: 60000, maxEntries: 10000 });
  });

  it('switches to Sentinel when REDIS_SENTINELS is set', () => {
    const config = loadServiceConfig({ REDIS_SENTINELS: 'a:26379, b:26380', REDIS_SENTINEL_NAME: 'realtime' });
    expect(config.redis).toMatchObject({
      mode: 'sentinel',
      name: 'realtime',
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26380 },
      ],
    });
  });

  it('switches to Redis Cluster when REDIS_CLUSTER_NODES is set, with keys of one hash tag', () => {
    const config = loadServiceConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-1',
      REALTIME_STREAM_KEY: '{trayb}:events:realtime',
      MATCHES_KEY: '{trayb}:matches',
    });
    expect(config.redis).toEqual({
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-1', port: 6379 },
      ],
      password: undefined,
    });
  });

  it('refuses to start on Redis Cluster when the stream and the match hash span slots, naming both keys', () => {
    expect(() => loadServiceConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379' })).toThrow(
      /REALTIME_STREAM_KEY \(trayb:events:realtime, slot 1188\) and MATCHES_KEY \(trayb:matches, slot 7863\) must share a hash slot/,
    );
    // Outside a cluster the defaults stay what the runbooks name.
    expect(loadServiceConfig({}).stream.key).toBe('trayb:events:realtime');
  });

  it('lingers after a short read for the flush window unless told otherwise', () => {
    expect(loadServiceConfig({}).stream.readLingerMs).toBe(20);
    expect(loadServiceConfig({ SSE_FLUSH_INTERVAL_MS: '0' }).stream.readLingerMs).toBe(0);
    expect(loadServiceConfig({ REALTIME_STREAM_READ_LINGER_MS: '5' }).stream.readLingerMs).toBe(5);
  });

  it('reports every invalid variable at once', () => {
    let error: unknown;
    try {
      loadServiceConfig({
        PORT: 'eighty',
        SSE_OVERFLOW_POLICY: 'ignore',
        REDIS_URL: 'http://x',
        SSE_CLIENT_QUEUE_LIMIT: '0',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(4);
    expect((error as ConfigError).message).toMatch(/PORT must be an integer/);
  });
});
