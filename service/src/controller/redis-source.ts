// The controller's Redis connection. It follows the policy: when the policy points at a
// Secret, the URL comes from there, and a changed URL replaces the connection.
import { createRedis, type RedisClient } from '../redis/index.ts';
import type { RedisConfig } from '../config/common.ts';

export class RedisSource {
  readonly #fallback: RedisConfig;
  #url: string | undefined;
  #redis: RedisClient | undefined;

  constructor(fallback: RedisConfig) {
    this.#fallback = fallback;
  }

  /** The connection for this URL (undefined: the environment's REDIS_URL / Sentinels). */
  current(url: string | undefined): RedisClient {
    if (this.#redis !== undefined && url === this.#url) return this.#redis;
    void this.#redis?.quit().catch(() => undefined);
    // No offline queue: while Redis is down a poll must fail fast and read as an outage,
    // not wait for a reconnect.
    const config: RedisConfig = url === undefined ? this.#fallback : { mode: 'standalone', url };
    const redis = createRedis(config, { name: 'trayb-realtime-controller', offlineQueue: false });
    redis.on('error', () => undefined); // every failure surfaces as a failed poll; no unhandled 'error'
    void redis.connect().catch(() => undefined);
    this.#redis = redis;
    this.#url = url;
    return redis;
  }

  async close(): Promise<void> {
    const redis = this.#redis;
    this.#redis = undefined;
    if (redis === undefined) return;
    await redis.quit().catch(() => redis.disconnect());
  }
}
