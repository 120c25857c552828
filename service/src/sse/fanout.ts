// The local fan-out: every entry this instance reads goes to the clients that follow its
// match. Subscribers are indexed by room, each event is serialised and encoded once, and
// each client gets one write per flush however many events it holds. Flushes are
// throttled to one per `flushIntervalMs`, leading edge first: after a quiet spell an event
// goes out at once, while under a steady stream the events of one window share a write.
// A socket write costs the same for 150 bytes as for 1,500, so this divides the dominant
// per-delivery cost (the write system call) by the events per window, for at most one
// window of added latency.
import type { StreamEntry } from '../bus/index.ts';
import type { ServiceMetrics, SseHashCounters } from '../metrics/index.ts';
import { ClientQueue } from './client-queue.ts';
import type { StreamConnection } from './connection.ts';
import { FrameJoiner, HEARTBEAT, controlFrame, outgoingEvent, type OutgoingEvent, type WireFrame } from './frames.ts';

export interface FanoutOptions {
  readonly queueLimit: number;
  readonly socketBufferBytes: number;
  readonly overflowPolicy: 'drop' | 'disconnect';
  /** Minimum time between two flushes; 0 flushes every batch at once. */
  readonly flushIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly retryMs: number;
  /** Most streams this instance holds at once. */
  readonly maxConnections: number;
  /** Most streams one identity holds at once on this instance. */
  readonly maxConnectionsPerIdentity: number;
  readonly metrics: ServiceMetrics;
  readonly counters: SseHashCounters;
}

/** Why a new stream is turned away: this instance is full, or its identity holds its share. */
export type CapacityRefusal = 'instance_full' | 'identity_full';

/**
 * How often streams are checked for expired tokens. One sweep over every client (tens of
 * microseconds at 10,000) costs less than a timer per connection, which is a Timeout, a
 * closure and a timer list each, held for the stream's whole life.
 */
const EXPIRY_SWEEP_MS = 1000;

/** Offers an event to a client and lists the client once per flush round for the flush. */
function offerTo(client: ClientQueue, event: OutgoingEvent, round: number, touched: ClientQueue[]): void {
  client.offer(event);
  if (client.enterRound(round)) touched.push(client);
}

export class Fanout {
  readonly #options: FanoutOptions;
  /** Clients that follow every match (admins without a filter). */
  readonly #everything = new Set<ClientQueue>();
  readonly #byRoom = new Map<string, Set<ClientQueue>>();
  readonly #all = new Set<ClientQueue>();
  /** Streams held per identity, for the per-identity cap (identities with none are absent). */
  readonly #perOwner = new Map<string, number>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #expiry: NodeJS.Timeout;
  readonly #hooks;
  /** Numbers flush rounds, so a client is listed once per round without a Set. */
  #round = 1;
  /** Clients with frames queued since the last flush (reused between rounds). */
  readonly #touched: ClientQueue[] = [];
  readonly #joiner = new FrameJoiner();
  #lastFlushAt = Number.NEGATIVE_INFINITY;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: FanoutOptions) {
    this.#options = options;
    const { metrics, counters } = options;
    this.#hooks = {
      sent: (frames: readonly WireFrame[]) => {
        // Read per write: later writes of a round go out later, and their latency says so.
        const now = Date.now();
        const latency = metrics.deliveryLatency;
        let events = 0;
        for (const { time } of frames) {
          if (Number.isNaN(time)) continue;
          events++;
          // One observation per client and event: a slow client's late write is its own sample.
          latency.observe(Math.max(0, now - time) / 1000);
        }
        metrics.eventsSent.inc(events);
      },
      replayed: (count: number) => metrics.eventsSent.inc(count),
      dropped: (reason: Parameters<ClientQueue['close']>[0] & string, count: number) => {
        metrics.eventsDropped.inc({ reason }, count);
        counters.add('dropped', count);
      },
      closed: (client: ClientQueue) => this.#remove(client),
    };
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatIntervalMs).unref();
    this.#expiry = setInterval(() => this.#expire(), EXPIRY_SWEEP_MS).unref();
  }

  get size(): number {
    return this.#all.size;
  }

  /**
   * Whether one more stream of `owner` would pass the caps. Checked before the stream's
   * headers go out; nothing runs between the check and attach, so the caps hold exactly.
   */
  refusal(owner: string): CapacityRefusal | undefined {
    if (this.#all.size >= this.#options.maxConnections) return 'instance_full';
    if ((this.#perOwner.get(owner) ?? 0) >= this.#options.maxConnectionsPerIdentity) return 'identity_full';
    return undefined;
  }

  /**
   * Attaches a stream's connection as a client of `owner`; `rooms` null means every match.
   * The stream ends with its token (`expiresAt`); the client reconnects with a fresh one and
   * resumes.
   */
  attach(
    connection: StreamConnection,
    owner: string,
    rooms: ReadonlySet<string> | null,
    expiresAt?: number,
  ): ClientQueue {
    const client = new ClientQueue(connection, {
      limit: this.#options.queueLimit,
      socketBufferBytes: this.#options.socketBufferBytes,
      overflowPolicy: this.#options.overflowPolicy,
      rooms,
      expiresAt,
      owner,
      hooks: this.#hooks,
    });
    this.#all.add(client);
    this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    if (rooms === null) this.#everything.add(client);
    else
      for (const room of rooms) {
        let members = this.#byRoom.get(room);
        if (members === undefined) this.#byRoom.set(room, (members = new Set()));
        members.add(client);
      }
    this.#options.metrics.connections.inc();
    this.#options.metrics.connectionsOpened.inc();
    this.#options.counters.add('connections');
    return client;
  }

  /** Fans a batch read from the stream out to its subscribers. */
  deliver(entries: readonly StreamEntry[]): void {
    const round = this.#round;
    const touched = this.#touched;
    for (const entry of entries) {
      const room = this.#byRoom.get(entry.event.matchId);
      if (room === undefined && this.#everything.size === 0) continue;
      const event = outgoingEvent(entry);
      for (const client of this.#everything) offerTo(client, event, round, touched);
      if (room !== undefined) for (const client of room) offerTo(client, event, round, touched);
    }
    if (touched.length === 0) return;
    // A client whose queue fills inside a window writes it out itself (ClientQueue.offer):
    // waiting never makes a fast client look slow.
    if (this.#flushTimer !== undefined) return;
    const wait = this.#lastFlushAt + this.#options.flushIntervalMs - performance.now();
    if (wait <= 0) this.#flush();
    else this.#flushTimer = setTimeout(() => this.#flush(), wait);
  }

  /** Writes what every touched client holds, one write each. */
  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#lastFlushAt = performance.now();
    this.#round++;
    const touched = this.#touched;
    for (const client of touched) client.flush(this.#joiner);
    touched.length = 0;
    this.#joiner.clear();
  }

  /**
   * Tells every client the instance is going away, then closes connections spread over
   * `windowMs`, so reconnects land on other instances gradually instead of all at once.
   */
  async drain(windowMs: number): Promise<void> {
    this.#flush();
    const clients = [...this.#all];
    const frame = controlFrame('shutdown', { retryMs: this.#options.retryMs });
    for (const client of clients) {
      client.flush();
      client.writeRaw(frame, true);
    }
    const step = clients.length > 1 ? windowMs / clients.length : 0;
    await Promise.all(
      clients.map(
        (client, index) =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              client.close('shutdown');
              resolve();
            }, step * index),
          ),
      ),
    );
  }

  close(): void {
    clearInterval(this.#heartbeat);
    clearInterval(this.#expiry);
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const client of [...this.#all]) client.close('shutdown');
  }

  #beat(): void {
    for (const client of this.#all) if (client.queued === 0) client.writeRaw(HEARTBEAT);
  }

  #expire(): void {
    const now = Date.now();
    for (const client of this.#all)
      if (client.expiresAt !== undefined && client.expiresAt <= now) client.close('token_expired');
  }

  #remove(client: ClientQueue): void {
    if (!this.#all.delete(client)) return;
    const held = (this.#perOwner.get(client.owner) ?? 1) - 1;
    if (held === 0) this.#perOwner.delete(client.owner);
    else this.#perOwner.set(client.owner, held);
    this.#everything.delete(client);
    if (client.rooms !== null)
      for (const room of client.rooms) {
        const members = this.#byRoom.get(room);
        members?.delete(client);
        if (members?.size === 0) this.#byRoom.delete(room);
      }
    this.#options.metrics.connections.dec();
    this.#options.metrics.disconnects.inc();
    this.#options.counters.add('disconnects');
  }
}
