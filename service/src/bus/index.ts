// The Redis Streams bus: publishing (emitRealtimeEvent), this instance's group reader, and
// replay for resuming clients. It owns two connections: one for commands, and one the reader
// blocks on, so a long XREADGROUP never delays a producer.
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/index.ts';
import type { ServiceMetrics } from '../metrics/index.ts';
import type { StreamEntry } from './events.ts';
import { EventPublisher } from './publisher.ts';
import { createRedis, type RedisClient } from '../redis/index.ts';
import { recentEvents, replayEventsSince, resumeCoverage, type ResumeCoverage } from './replay.ts';
import { StreamReader, type Deliver } from './stream-reader.ts';

export * from './events.ts';
export { BusUnavailableError, EventPublisher } from './publisher.ts';
export type { ResumeCoverage } from './replay.ts';

export interface RealtimeBusOptions {
  readonly config: ServiceConfig;
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
}

export class RealtimeBus {
  /** The command connection: publishing, replay, state reads. */
  readonly redis: RedisClient;
  readonly publisher: EventPublisher;
  readonly #reader: StreamReader;
  readonly #config: ServiceConfig;

  constructor({ config, log, metrics }: RealtimeBusOptions) {
    this.#config = config;
    this.redis = createRedis(config.redis, { name: `trayb-realtime:${config.instance}:commands`, offlineQueue: false });
    // ioredis reconnects by itself; without a listener an 'error' event would be thrown.
    this.redis.on('error', (error: Error) => log.warn({ err: error }, 'redis command connection error'));
    this.publisher = new EventPublisher(this.redis, config.stream, {
      published: (event) => metrics.eventsPublished.inc({ action: event.action }),
      failed: (event, error) =>
        log.error({ err: error, action: event.action, matchId: event.matchId }, 'publishing an event failed'),
    });
    const readerConnection = createRedis(config.redis, {
      name: `trayb-realtime:${config.instance}:reader`,
      offlineQueue: true,
    });
    readerConnection.on('error', (error: Error) => log.warn({ err: error }, 'redis reader connection error'));
    this.#reader = new StreamReader(readerConnection, {
      key: config.stream.key,
      group: config.stream.group,
      consumer: config.stream.consumer,
      count: config.stream.readCount,
      blockMs: config.stream.readBlockMs,
      lingerMs: config.stream.readLingerMs,
      onRead: () => {
        metrics.busReads.inc();
        metrics.busLastRead.set(Date.now() / 1000);
      },
      onError: () => metrics.busErrors.inc(),
      log: log.child({ component: 'stream-reader' }),
    });
  }

  /**
   * Connects and starts reading this instance's group; every entry read goes to `deliver`
   * (the local fan-out), in stream order. It is handed over here rather than at construction,
   * so what it delivers to is built before it, from this bus's connection.
   */
  async start(deliver: Deliver): Promise<void> {
    // Unreachable Redis is not a failed start: ioredis keeps reconnecting (the error listener
    // logs it), commands fail fast meanwhile and /readyz reports it.
    await this.redis.connect().catch(() => undefined);
    await this.#reader.start(deliver);
  }

  async stop(): Promise<void> {
    await this.#reader.stop();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  emitRealtimeEvent(input: unknown): Promise<StreamEntry> {
    return this.publisher.emitRealtimeEvent(input);
  }

  replayEventsSince(lastId: string): AsyncGenerator<StreamEntry[]> {
    return replayEventsSince(this.redis, this.#config.stream.key, lastId, this.#config.stream.replayBatch);
  }

  recentEvents(count: number): Promise<StreamEntry[]> {
    return recentEvents(this.redis, this.#config.stream.key, count);
  }

  resumeCoverage(lastId: string): Promise<ResumeCoverage> {
    return resumeCoverage(this.redis, this.#config.stream.key, lastId);
  }

  /** When the reader last completed a read (ms since epoch). */
  get lastReadAt(): number | undefined {
    return this.#reader.lastReadAt;
  }

  get redisReady(): boolean {
    return this.redis.status === 'ready';
  }
}
