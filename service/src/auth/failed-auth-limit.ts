// Failed authentications per client address, counted in Redis so the limit holds across
// every replica: without it, anyone may try tokens as fast as the instances verify them.
// The check runs before the token is looked at, so an address past the limit costs no
// verification; only tokens that fail their signature or format count (a missing or expired
// token is no guess, and clients with an expired one reconnect all the time). A fixed
// one-minute window starts at an address's first failure.
//
// When Redis cannot answer, requests go through to the token check as before: the limit
// is a brake on guessing, and refusing everyone while Redis is away would be an outage.
import type { RedisClient } from '../redis/index.ts';
import { AuthError } from './tokens.ts';

const WINDOW_MS = 60_000;

export interface FailedAuthLimitOptions {
  /** Prefix of the counters' keys: `<prefix>auth-failures:<address>`. */
  readonly keyPrefix: string;
  readonly maxPerMinute: number;
  /** Told when Redis could not count or answer. */
  readonly onError: (error: unknown) => void;
}

export class FailedAuthLimit {
  readonly #redis: RedisClient;
  readonly #options: FailedAuthLimitOptions;

  constructor(redis: RedisClient, options: FailedAuthLimitOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  /** Throws a 429 when `address` used up its failures for the current window. */
  async check(address: string): Promise<void> {
    const key = this.#key(address);
    let failures: number;
    let ttlMs: number;
    try {
      const [count, ttl] = await Promise.all([this.#redis.get(key), this.#redis.pttl(key)]);
      failures = Number(count ?? 0);
      ttlMs = ttl;
    } catch (error) {
      this.#options.onError(error);
      return;
    }
    if (failures < this.#options.maxPerMinute) return;
    throw new AuthError(429, 'too many failed authentications from this address; retry later', {
      retryAfterMs: ttlMs > 0 ? ttlMs : WINDOW_MS,
    });
  }

  /** Counts one failure of `address`; the window starts with its first. */
  async recordFailure(address: string): Promise<void> {
    const key = this.#key(address);
    try {
      await this.#redis.multi().incr(key).pexpire(key, WINDOW_MS, 'NX').exec();
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #key(address: string): string {
    return `${this.#options.keyPrefix}auth-failures:${address}`;
  }
}
