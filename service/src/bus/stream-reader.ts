// The per-instance reader: its own connection, its own consumer group, a cursor. It first
// re-reads what this consumer was handed but never acknowledged (id 0), then blocks for new
// entries ('>'), hands each batch to the local fan-out, and acknowledges it afterwards.
// It survives Redis restarts: ioredis reconnects, a missing group is recreated.
//
// What Redis pays per instance is set here, and every instance pays it for every event:
// - After a read that returned less than a full batch the reader lingers (`lingerMs`) before
//   reading again. Events that arrive meanwhile wait in the stream and come back together in
//   one reply, instead of each waking every blocked reader on its own; a full batch means a
//   backlog, so the next read follows at once.
// - A batch is acknowledged together with the next read, one pipeline: one request and,
//   when the read finds entries, one reply. So a healthy reader's pending list holds at most
//   the last batch, for at most the linger (plus a round trip), while a stuck one still shows
//   pending and lag growing, exactly as before.
import type { Logger } from 'pino';
import { decodeEntry, type StreamEntry } from './events.ts';
import { onConnectionLost, reconnectDelay, type RedisClient } from '../redis/index.ts';

export interface StreamReaderOptions {
  readonly key: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  readonly blockMs: number;
  /** Pause after a read that returned less than a full batch; 0 reads again at once. */
  readonly lingerMs?: number;
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
  readonly #redis: RedisClient;
  readonly #options: StreamReaderOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #lastReadAt: number | undefined;
  /** The newest entry this reader has handed to the fan-out. */
  #lastDeliveredId: string | undefined;
  /** Delivered, not yet acknowledged: they go with the next read. */
  #unacked: string[] = [];
  /** Ends the current linger early (stop). */
  #endLinger: (() => void) | undefined;
  /** Counts connection losses, so a read can tell that it spanned one. */
  #connectionLosses = 0;

  constructor(redis: RedisClient, options: StreamReaderOptions) {
    this.#redis = redis;
    this.#options = options;
    onConnectionLost(redis, () => this.#connectionLosses++);
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
    this.#running = this.#createGroupOnceReachable().then((created) => (created ? this.#loop(deliver) : undefined));
  }

  /**
   * The start's group creation, retried with the reconnect back-off until it succeeds or the
   * reader stops (a stop disconnects, which rejects the queued command). It never rejects: a
   * failure nobody awaits until stop() would end the process as an unhandled rejection.
   */
  async #createGroupOnceReachable(): Promise<boolean> {
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        await this.#createGroup(true);
        return true;
      } catch (error) {
        if (this.#stopping) break;
        this.#options.onError?.(error);
        const delay = reconnectDelay(attempt);
        this.#options.log.error({ err: error, retryInMs: delay }, 'could not create the consumer group');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return false;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#endLinger !== undefined) {
      // Between reads: the last batch was delivered but not yet acknowledged. The loop
      // acknowledges it on its way out, so a restart under the same name does not re-read it.
      this.#endLinger();
      await this.#running;
    }
    // Disconnecting rejects a blocked XREADGROUP at once instead of waiting out BLOCK.
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

  /** Acknowledges what was delivered and reads from `cursor`, in one pipeline (one request). */
  async #ackAndRead(cursor: string): Promise<ReadReply> {
    const { key, group, consumer, count, blockMs } = this.#options;
    const acked = this.#unacked;
    const pipeline = this.#redis.pipeline();
    if (acked.length > 0) pipeline.xack(key, group, ...acked);
    // '0' re-reads this consumer's pending entries at once; '>' waits for new ones.
    const block = cursor === '>' ? ['BLOCK', blockMs] : [];
    pipeline.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, ...block, 'STREAMS', key, cursor);
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    // Only now: after a failure the same ids go again (XACK is idempotent).
    if (this.#unacked === acked) this.#unacked = [];
    return (results[results.length - 1]?.[1] ?? null) as ReadReply;
  }

  async #loop(deliver: Deliver): Promise<void> {
    const { count, lingerMs = 0, log } = this.#options;
    let cursor = '0';
    let failures = 0;
    while (!this.#stopping) {
      try {
        const losses = this.#connectionLosses;
        const reply = await this.#ackAndRead(cursor);
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
        const live = cursor === '>';
        if (!live) cursor = raw.length === 0 ? '>' : (raw[raw.length - 1]?.[0] ?? '>');
        if (raw.length === 0) continue;
        this.#deliver(raw, deliver);
        this.#lastDeliveredId = raw[raw.length - 1]?.[0];
        for (const [id] of raw) this.#unacked.push(id);
        if (live && raw.length < count && lingerMs > 0) await this.#linger(lingerMs);
      } catch (error) {
        if (this.#stopping) break;
        this.#options.onError?.(error);
        // After any failure, re-read our pending entries: a reply lost with the connection
        // leaves entries delivered to us in Redis but never seen here.
        cursor = '0';
        if (isMissingGroup(error)) {
          // A recreated group has no pending entries to acknowledge.
          this.#unacked = [];
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
    if (this.#unacked.length > 0 && this.#redis.status === 'ready') {
      // Best effort, and never longer than a second: a stop must not wait on an outage.
      const { key, group } = this.#options;
      const acked = this.#redis.xack(key, group, ...this.#unacked).catch(() => undefined);
      await Promise.race([acked, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
  }

  #linger(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#endLinger = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.#endLinger = end;
    });
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
