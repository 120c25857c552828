// The per-instance reader: its own connection, its own consumer group, a cursor. It first
// re-reads what this consumer was handed but never acknowledged (id 0), then blocks for new
// entries ('>'), hands each batch to the local fan-out, and acknowledges it afterwards.
// It survives Redis restarts: ioredis reconnects, a missing group is recreated.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decodeEntry, type StreamEntry } from './events.ts';
import { reconnectDelay } from '../redis/index.ts';

export interface StreamReaderOptions {
  readonly key: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  readonly blockMs: number;
  readonly onRead?: () => void;
  readonly onError?: (error: unknown) => void;
  readonly log: Logger;
}

/** Receives every decoded entry of a batch, in stream order, before it is acknowledged. */
export type Deliver = (entries: readonly StreamEntry[]) => void;

type RawEntries = [id: string, fields: string[] | null][];
type ReadReply = [key: string, entries: RawEntries][] | null;

function isMissingGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

export class StreamReader {
  readonly #redis: Redis;
  readonly #options: StreamReaderOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #lastReadAt: number | undefined;
  /** The newest entry this reader has handed to the fan-out. */
  #lastDeliveredId: string | undefined;
  /** Counts connection losses, so a read can tell that it spanned one. */
  #connectionLosses = 0;

  constructor(redis: Redis, options: StreamReaderOptions) {
    this.#redis = redis;
    this.#options = options;
    redis.on('close', () => this.#connectionLosses++);
  }

  /** When the last XREADGROUP completed (ms since epoch); undefined before the first. */
  get lastReadAt(): number | undefined {
    return this.#lastReadAt;
  }

  /**
   * Starts reading; every batch goes to `deliver`, which is given here, once there is
   * something to deliver to. With Redis reachable the group exists when this resolves. Without
   * it (in a cluster Redis may start after the instances) the start does not fail: ioredis
   * keeps reconnecting, the group is created and the reading begins once Redis answers, and
   * until then readiness says the reader has not read yet.
   */
  async start(deliver: Deliver): Promise<void> {
    if (
      await this.#redis.connect().then(
        () => true,
        () => false,
      )
    ) {
      await this.#createGroup(true);
      this.#running = this.#loop(deliver);
      return;
    }
    this.#options.log.warn('Redis is unreachable; the stream reader starts once it answers');
    this.#running = this.#createGroup(true).then(
      () => this.#loop(deliver),
      (error: unknown) => {
        // stop() disconnects, which rejects the queued command: not an error then.
        if (!this.#stopping) throw error;
      },
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // Disconnecting rejects the blocked XREADGROUP at once instead of waiting out BLOCK.
    this.#redis.disconnect();
    await this.#running;
  }

  /**
   * Creates this instance's group at the stream's end. At start, an existing group means the
   * process restarted under the same name: its old clients are gone (they resume with
   * Last-Event-ID), so the group skips to the end instead of replaying the backlog live.
   * Later (Redis restarted or failed over, or the group was destroyed) the group is recreated
   * just after the last entry this reader delivered, so entries added meanwhile still arrive.
   */
  async #createGroup(atStart: boolean): Promise<void> {
    const { key, group, log } = this.#options;
    try {
      await this.#redis.xgroup('CREATE', key, group, atStart ? '$' : (this.#lastDeliveredId ?? '$'), 'MKSTREAM');
      if (atStart) log.info({ group }, 'created consumer group');
      else log.warn({ group }, 'consumer group was missing (Redis restarted or the group was destroyed); recreated it');
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('BUSYGROUP')) throw error;
      if (!atStart) return;
      await this.#redis.xgroup('SETID', key, group, '$');
      log.info({ group }, 'consumer group exists from an earlier run; moved it to the end of the stream');
    }
  }

  async #loop(deliver: Deliver): Promise<void> {
    const { key, group, consumer, count, blockMs, log } = this.#options;
    // '0' re-reads this consumer's pending entries; '>' asks for new ones.
    let cursor = '0';
    let failures = 0;
    while (!this.#stopping) {
      try {
        const losses = this.#connectionLosses;
        const reply = (await (cursor === '>'
          ? this.#redis.call(
              'XREADGROUP',
              'GROUP',
              group,
              consumer,
              'COUNT',
              count,
              'BLOCK',
              blockMs,
              'STREAMS',
              key,
              '>',
            )
          : this.#redis.call(
              'XREADGROUP',
              'GROUP',
              group,
              consumer,
              'COUNT',
              count,
              'STREAMS',
              key,
              cursor,
            ))) as ReadReply;
        this.#lastReadAt = Date.now();
        this.#options.onRead?.();
        failures = 0;
        if (losses !== this.#connectionLosses) {
          // The connection dropped while this read was in flight and ioredis re-sent it on a
          // new one. A reply lost with the old connection left entries pending for us that
          // this reply lacks, and newer entries must not overtake them (clients skip ids
          // behind their cursor): read the pending list again, in order, from the start.
          cursor = '0';
          continue;
        }
        const raw = reply?.[0]?.[1] ?? [];
        if (cursor !== '>') cursor = raw.length === 0 ? '>' : (raw[raw.length - 1]?.[0] ?? '>');
        if (raw.length === 0) continue;
        this.#deliver(raw, deliver);
        this.#lastDeliveredId = raw[raw.length - 1]?.[0];
        await this.#redis.xack(key, group, ...raw.map(([id]) => id));
      } catch (error) {
        if (this.#stopping) break;
        this.#options.onError?.(error);
        // After any failure, re-read our pending entries: a reply lost with the connection
        // leaves entries delivered to us in Redis but never seen here.
        cursor = '0';
        if (isMissingGroup(error)) {
          await this.#createGroup(false).catch((e: unknown) =>
            log.error({ err: e }, 'could not recreate consumer group'),
          );
          continue;
        }
        const delay = reconnectDelay(failures++);
        log.error({ err: error, retryInMs: delay }, 'stream read failed');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  #deliver(raw: RawEntries, deliver: Deliver): void {
    const entries: StreamEntry[] = [];
    for (const [id, fields] of raw) {
      const entry = decodeEntry(id, fields);
      if (entry === undefined) this.#options.log.warn({ id }, 'skipping a stream entry this service did not write');
      else entries.push(entry);
    }
    if (entries.length > 0) deliver(entries);
  }
}
