// emitRealtimeEvent(): validate, timestamp, XADD with an approximate MAXLEN trim. A Redis
// failure reaches the caller as BusUnavailableError (producers answer 503), never a silent loss.
import type { Redis } from 'ioredis';
import type { StreamConfig } from '../config/common.ts';
import { entryFields, normaliseEvent, type RealtimeEvent, type StreamEntry } from './events.ts';

export class BusUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the event stream is unavailable: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'BusUnavailableError';
  }
}

export interface PublishHooks {
  published(event: RealtimeEvent): void;
  failed(event: RealtimeEvent, error: unknown): void;
}

export class EventPublisher {
  readonly #redis: Redis;
  readonly #stream: StreamConfig;
  readonly #hooks: PublishHooks;

  constructor(redis: Redis, stream: StreamConfig, hooks: PublishHooks) {
    this.#redis = redis;
    this.#stream = stream;
    this.#hooks = hooks;
  }

  /** Validates and appends an event; resolves with the stream entry as stored. */
  async emitRealtimeEvent(input: unknown): Promise<StreamEntry> {
    const event = normaliseEvent(input);
    const entry = await this.emitWith(event, async (fields, maxLen) => {
      const id = await this.#redis.xadd(this.#stream.key, 'MAXLEN', '~', maxLen, '*', ...fields);
      if (id === null) throw new Error('XADD returned no id');
      return id;
    });
    return entry as StreamEntry;
  }

  /**
   * Appends a validated event through `append`, which performs the XADD together with a
   * state change (a script) and resolves with the entry id, or null when the state change
   * was refused (a concurrent write won). Failures are counted and surface as 503s.
   */
  async emitWith(event: RealtimeEvent, append: (fields: string[], maxLen: number) => Promise<string | null>): Promise<StreamEntry | null> {
    let id: string | null;
    try {
      id = await append(entryFields(event), this.#stream.maxLen);
    } catch (error) {
      this.#hooks.failed(event, error);
      throw new BusUnavailableError(error);
    }
    if (id === null) return null;
    this.#hooks.published(event);
    return { id, event };
  }
}
