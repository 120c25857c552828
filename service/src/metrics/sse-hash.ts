// The cluster-wide counters the runbook reads with `redis-cli HGETALL metrics:sse`.
// Increments are summed locally and flushed once a second, so a drop storm costs one
// HINCRBY per field per second instead of one per dropped event.
import type { RedisClient } from '../redis/index.ts';
import { SSE_METRICS_HASH } from '../contract/index.ts';

type Field = 'connections' | 'disconnects' | 'dropped';

export class SseHashCounters {
  readonly #redis: RedisClient;
  readonly #pending: Record<Field, number> = { connections: 0, disconnects: 0, dropped: 0 };
  readonly #timer: NodeJS.Timeout;
  readonly #onError: (error: unknown) => void;

  constructor(redis: RedisClient, onError: (error: unknown) => void, intervalMs = 1000) {
    this.#redis = redis;
    this.#onError = onError;
    this.#timer = setInterval(() => void this.flush(), intervalMs).unref();
  }

  add(field: Field, count = 1): void {
    this.#pending[field] += count;
  }

  /** Writes what accumulated; on failure the counts are kept for the next flush. */
  async flush(): Promise<void> {
    const batch = { ...this.#pending };
    const fields = (Object.keys(batch) as Field[]).filter((field) => batch[field] > 0);
    if (fields.length === 0) return;
    for (const field of fields) this.#pending[field] -= batch[field];
    try {
      const pipeline = this.#redis.pipeline();
      for (const field of fields) pipeline.hincrby(SSE_METRICS_HASH, field, batch[field]);
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0] ?? new Error('HINCRBY failed');
    } catch (error) {
      for (const field of fields) this.#pending[field] += batch[field];
      this.#onError(error);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
