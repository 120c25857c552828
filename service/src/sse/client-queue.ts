// One SSE connection: a cursor that never goes backwards (no duplicates across replay and
// live), and a bounded queue that fills only while the socket pushes back: once more than
// `socketBufferBytes` wait in the socket's own buffer, events wait in the queue instead. When the queue
// is full, events are dropped and counted (policy "drop", and the client is told with a
// `resync` before the next event it gets) or the client is disconnected so it resumes
// losslessly with Last-Event-ID (policy "disconnect").
//
// Frames go straight to the socket (see connection.ts) as the bytes the fan-out encoded
// once for everyone, pre-framed as HTTP chunks when the response is chunked.
import { compareStreamIds, type StreamEntry } from '../bus/index.ts';
import type { DropReason } from '../contract/index.ts';
import type { StreamConnection } from './connection.ts';
import { controlFrame, joinFrames, wireFrame, type FrameJoiner, type OutgoingEvent, type WireFrame } from './frames.ts';

export interface ClientQueueHooks {
  /** Frames written in one write; events have a timestamp (`time`), control frames NaN. */
  sent(frames: readonly WireFrame[]): void;
  /** Replayed events written (no latency: they are history). */
  replayed(count: number): void;
  dropped(reason: DropReason, count: number): void;
  closed(client: ClientQueue): void;
}

export interface ClientQueueOptions {
  readonly limit: number;
  /** Bytes the socket may buffer before the client counts as pushing back. */
  readonly socketBufferBytes: number;
  readonly overflowPolicy: 'drop' | 'disconnect';
  /** null: every event; otherwise only events of these matches. */
  readonly rooms: ReadonlySet<string> | null;
  /** When the client's token expires (ms since the epoch); the stream ends then. */
  readonly expiresAt: number | undefined;
  /** The identity (token subject) the stream belongs to; its streams are capped together. */
  readonly owner: string;
  readonly hooks: ClientQueueHooks;
}

/** The client a stream socket feeds; lets one set of listener functions serve every socket. */
const CLIENT = Symbol('sse client');
type ClientSocket = StreamConnection['socket'] & { [CLIENT]?: ClientQueue };

export class ClientQueue {
  readonly connection: StreamConnection;
  readonly rooms: ReadonlySet<string> | null;
  readonly expiresAt: number | undefined;
  readonly owner: string;
  /** Id of the last event accepted for this client; events at or before it are skipped. */
  #cursor: string | undefined;
  /** The fan-out flush round that last listed this client (lets it dedupe without a Set). */
  #round = 0;
  /** Frames waiting for the next write; one array per client, reused across writes. */
  readonly #queue: WireFrame[] = [];
  /** How many of the queued frames are events (the rest are control frames). */
  #queuedEvents = 0;
  #blocked = false;
  #gap = false;
  #closed = false;
  #catchingUp = false;
  /** Live events that arrive while the client catches up from the stream (only then). */
  #held: OutgoingEvent[] | undefined;
  #heldOverflow = false;
  readonly #options: ClientQueueOptions;

  constructor(connection: StreamConnection, options: ClientQueueOptions) {
    this.connection = connection;
    this.rooms = options.rooms;
    this.expiresAt = options.expiresAt;
    this.owner = options.owner;
    this.#options = options;
    // Listeners shared by all clients (`this` is the socket): closures per connection and
    // event would weigh more than the client itself.
    const socket: ClientSocket = connection.socket;
    socket[CLIENT] = this;
    socket.on('drain', ClientQueue.#onDrain);
    socket.on('close', ClientQueue.#onClose);
  }

  static #onDrain(this: ClientSocket): void {
    const client = this[CLIENT];
    if (client === undefined) return;
    client.#blocked = false;
    client.flush();
    // Events were dropped and no newer event has carried the resync yet. Say it now that
    // the socket took everything queued before the gap: when the dropped events were the
    // last ones for a while, the client must not wait for the next event to learn of it.
    if (client.#gap && !client.#blocked && !client.#closed) {
      client.#gap = false;
      client.writeRaw(controlFrame('resync', { reason: 'events_dropped' }));
    }
  }

  static #onClose(this: ClientSocket): void {
    const client = this[CLIENT];
    if (client !== undefined) client.#markClosed();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Id of the last event this client was given (live or replayed). */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /**
   * True the first time it is asked for a given flush round, false after: the fan-out lists
   * each client it offered events to once per round, without a Set per round.
   */
  enterRound(round: number): boolean {
    if (this.#round === round) return false;
    this.#round = round;
    return true;
  }

  follows(matchId: string): boolean {
    return this.rooms === null || this.rooms.has(matchId);
  }

  /** Accepts a live event (already encoded); call flush() to write it. */
  offer(event: OutgoingEvent): void {
    if (this.#closed) return;
    if (this.#catchingUp) {
      const held = (this.#held ??= []);
      if (held.length >= this.#options.limit) this.#heldOverflow = true;
      else held.push(event);
      return;
    }
    this.#accept(event);
  }

  #accept(event: OutgoingEvent): void {
    const { id } = event.entry;
    if (this.#cursor !== undefined && compareStreamIds(id, this.#cursor) <= 0) return;
    this.#cursor = id;
    // A full queue on a socket that is not pushing back is just a big burst: hand it to the
    // socket now. Only a client whose socket is over its budget is slow enough to lose events.
    if (this.#queue.length >= this.#options.limit && !this.#blocked) this.flush();
    if (this.#queue.length >= this.#options.limit) {
      if (this.#options.overflowPolicy === 'disconnect') {
        this.#options.hooks.dropped('slow_client_disconnected', this.#queuedEvents + 1);
        this.#clearQueue();
        this.close();
      } else {
        this.#options.hooks.dropped('queue_full', 1);
        this.#gap = true;
      }
      return;
    }
    if (this.#gap) {
      this.#gap = false;
      this.#queue.push(wireFrame(controlFrame('resync', { reason: 'events_dropped' })));
    }
    this.#queue.push(event);
    this.#queuedEvents++;
  }

  /**
   * Writes everything queued in one write, unless the socket is pushing back. The fan-out
   * passes one joiner to every client of a round, so identical queues are joined once.
   */
  flush(joiner?: FrameJoiner): void {
    const queue = this.#queue;
    if (this.#blocked || this.#closed || queue.length === 0) return;
    const ok = this.#write(queue, joiner);
    this.#options.hooks.sent(queue);
    this.#clearQueue();
    // A write past the high-water mark returns false at once, even for a reader that keeps
    // up; only a buffer past the budget means this client is slow. 'drain' unblocks it.
    if (!ok && this.connection.socket.writableLength > this.#options.socketBufferBytes) this.#blocked = true;
  }

  /** Writes a frame that is not a stream event (retry hint, heartbeat, control), if writable. */
  writeRaw(frame: string | WireFrame, evenIfBlocked = false): void {
    if (this.#closed || (this.#blocked && !evenIfBlocked)) return;
    if (!this.#write([typeof frame === 'string' ? wireFrame(frame) : frame])) this.#blocked = true;
  }

  /** Starts holding live events back while stream history is replayed from `cursor`. */
  beginCatchUp(cursor: string): void {
    this.#cursor = cursor;
    this.#catchingUp = true;
  }

  /**
   * Ends a catch-up that cannot happen because the resume point is not in the stream (trimmed,
   * or never there): the client is told to refetch state (`resync`), and live delivery starts
   * without a cursor, so every held live event goes out.
   */
  abandonCatchUp(reason: 'resume_point_trimmed' | 'unknown_resume_point'): void {
    this.#cursor = undefined;
    this.writeRaw(controlFrame('resync', { reason }), true);
    this.goLive();
  }

  /** Writes a batch of replayed entries; resolves when the socket can take more. */
  async replay(entries: readonly StreamEntry[], frameOf: (entry: StreamEntry) => string): Promise<void> {
    let text = '';
    let count = 0;
    for (const entry of entries) {
      if (!this.follows(entry.event.matchId)) continue;
      if (this.#cursor !== undefined && compareStreamIds(entry.id, this.#cursor) <= 0) continue;
      this.#cursor = entry.id;
      text += frameOf(entry);
      count++;
    }
    if (count === 0 || this.#closed) return;
    const ok = this.#write([wireFrame(text)]);
    this.#options.hooks.replayed(count);
    if (!ok) await this.#writable();
  }

  /** Resolves on 'drain' or when the client goes away, leaving no listener behind either way. */
  #writable(): Promise<void> {
    const { socket } = this.connection;
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }

  /** True when live events were lost from the hold buffer and history must be read again. */
  takeHeldOverflow(): boolean {
    const overflowed = this.#heldOverflow;
    this.#heldOverflow = false;
    if (overflowed) this.#held = undefined;
    return overflowed;
  }

  /** Ends catch-up: the held live events after the cursor go out, then live delivery. */
  goLive(): void {
    this.#catchingUp = false;
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#accept(event);
    this.flush();
  }

  /** Ends the response; events still queued are counted as dropped (they replay on resume). */
  close(reason: DropReason = 'shutdown'): void {
    if (this.#closed) return;
    if (this.#queuedEvents > 0) this.#options.hooks.dropped(reason, this.#queuedEvents);
    this.#clearQueue();
    this.connection.end();
    this.#markClosed();
  }

  #write(frames: readonly WireFrame[], joiner?: FrameJoiner): boolean {
    const { socket, chunked } = this.connection;
    if (socket.destroyed) return true;
    return socket.write(joiner === undefined ? joinFrames(frames, chunked) : joiner.join(frames, chunked));
  }

  #clearQueue(): void {
    this.#queue.length = 0;
    this.#queuedEvents = 0;
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = undefined;
    this.#options.hooks.closed(this);
  }
}
