// emitRealtimeEvent(): validate, timestamp, XADD with an approximate MAXLEN trim. A Redis
// failure reaches the caller as BusUnavailableError (producers answer 503), never a silent loss.
import type { RedisClient } from '../redis/index.ts';
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
  readonly #redis: RedisClient;
  readonly #stream: StreamConfig;
  readonly #hooks: PublishHooks;

  constructor(redis: RedisClient, stream: StreamConfig, hooks: PublishHooks) {
    this.#redis = redis;
    this.#stream = stream;
    this.#hooks = hooks;
  }

  /** Validates and appends an event; resolves with the stream entry as stored. */
  async emitRealtimeEvent(input: unknown): Promise<StreamEntry> {
    const event = normaliseEvent(input);
    const entry = await this.emitWith(event, async (stream, xadd) => {
      const id = await this.#redis.xadd(stream, ...xadd);
      if (id === null) throw new Error('XADD returned no id');
      return id;
    });
    return entry as StreamEntry;
  }

  /**
   * Appends a validated event through `append`, which runs `XADD <stream> <xadd...>` (alone,
   * or together with a state change in a script) and resolves with the entry id, or null when
   * the state change was refused (a concurrent write won). The arguments carry the MAXLEN
   * trim, so every writer trims the stream the same way. Failures are counted and surface as 503s.
   */
  async emitWith(
    event: RealtimeEvent,
    append: (stream: string, xadd: readonly (string | number)[]) => Promise<string | null>,
  ): Promise<StreamEntry | null> {
    let id: string | null;
    try {
      id = await append(this.#stream.key, ['MAXLEN', '~', this.#stream.maxLen, '*', ...entryFields(event)]);
    } catch (error) {
      this.#hooks.failed(event, error);
      throw new BusUnavailableError(error);
    }
    if (id === null) return null;
    this.#hooks.published(event);
    return { id, event };
  }
}
