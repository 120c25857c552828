// One SSE connection: a cursor that never goes backwards (no duplicates across replay and
// live), and a bounded queue that fills only while the socket pushes back: once more than
// `socketBufferBytes` wait in the socket's own buffer, events wait in the queue instead. When the queue
// is full, events are dropped and counted (policy "drop", and the client is told with a
// `resync` before the next event it gets) or the client is disconnected so it resumes
// losslessly with Last-Event-ID (policy "disconnect").
//
// Once the response headers are on the wire, frames go straight to the socket as the bytes
// the fan-out encoded once for everyone (pre-framed chunks when the response is chunked):
// ServerResponse.write would frame, cork and schedule an uncork for every single write.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { compareStreamIds, type StreamEntry } from '../bus/index.ts';
import type { DropReason } from '../metrics/index.ts';
import { controlFrame, wireFrame, type OutgoingEvent, type WireFrame } from './frames.ts';

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
  readonly hooks: ClientQueueHooks;
}

export class ClientQueue {
  readonly response: ServerResponse;
  readonly rooms: ReadonlySet<string> | null;
  /** Id of the last event accepted for this client; events at or before it are skipped. */
  cursor: string | undefined;
  /** The fan-out flush round that last listed this client (lets it dedupe without a Set). */
  round = 0;
  /** Frames waiting for the next write; one array per client, reused across writes. */
  readonly #queue: WireFrame[] = [];
  /** How many of the queued frames are events (the rest are control frames). */
  #queuedEvents = 0;
  #blocked = false;
  #gap = false;
  #closed = false;
  #catchingUp = false;
  /** Live events that arrive while the client catches up from the stream. */
  #held: OutgoingEvent[] = [];
  #heldOverflow = false;
  readonly #options: ClientQueueOptions;
  /** Where frames go: the socket once the headers are written, else the response. */
  readonly #sink: Socket | ServerResponse;
  readonly #direct: boolean;
  readonly #chunked: boolean;

  constructor(response: ServerResponse, options: ClientQueueOptions) {
    this.response = response;
    this.rooms = options.rooms;
    this.#options = options;
    // Puts the status line and headers on the socket now, so later direct writes follow them.
    response.flushHeaders();
    const socket = response.socket;
    // A HEAD response has no body: only ServerResponse.write knows to drop one.
    this.#direct = socket !== null && !socket.destroyed && response.req.method !== 'HEAD';
    this.#sink = this.#direct ? (socket as Socket) : response;
    this.#chunked = response.chunkedEncoding;
    this.#sink.on('drain', () => {
      this.#blocked = false;
      this.flush();
      // Events were dropped and no newer event has carried the resync yet. Say it now that
      // the socket took everything queued before the gap: when the dropped events were the
      // last ones for a while, the client must not wait for the next event to learn of it.
      if (this.#gap && !this.#blocked && !this.#closed) {
        this.#gap = false;
        this.writeRaw(controlFrame('resync', { reason: 'events_dropped' }));
      }
    });
    response.on('close', () => this.#markClosed());
  }

  get closed(): boolean {
    return this.#closed;
  }

  get queued(): number {
    return this.#queue.length;
  }

  follows(matchId: string): boolean {
    return this.rooms === null || this.rooms.has(matchId);
  }

  /** Accepts a live event (already encoded); call flush() to write it. */
  offer(event: OutgoingEvent): void {
    if (this.#closed) return;
    if (this.#catchingUp) {
      if (this.#held.length >= this.#options.limit) this.#heldOverflow = true;
      else this.#held.push(event);
      return;
    }
    this.#accept(event);
  }

  #accept(event: OutgoingEvent): void {
    const { id } = event.entry;
    if (this.cursor !== undefined && compareStreamIds(id, this.cursor) <= 0) return;
    this.cursor = id;
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

  /** Writes everything queued in one write, unless the socket is pushing back. */
  flush(): void {
    const queue = this.#queue;
    if (this.#blocked || this.#closed || queue.length === 0) return;
    const ok = this.#write(queue);
    this.#options.hooks.sent(queue);
    this.#clearQueue();
    // A write past the high-water mark returns false at once, even for a reader that keeps
    // up; only a buffer past the budget means this client is slow. 'drain' unblocks it.
    if (!ok && this.#sink.writableLength > this.#options.socketBufferBytes) this.#blocked = true;
  }

  /** Writes a frame that is not a stream event (retry hint, heartbeat, control), if writable. */
  writeRaw(frame: string | WireFrame, evenIfBlocked = false): void {
    if (this.#closed || (this.#blocked && !evenIfBlocked)) return;
    if (!this.#write([typeof frame === 'string' ? wireFrame(frame) : frame])) this.#blocked = true;
  }

  /** Starts holding live events back while stream history is replayed from `cursor`. */
  beginCatchUp(cursor: string): void {
    this.cursor = cursor;
    this.#catchingUp = true;
  }

  /** Writes a batch of replayed entries; resolves when the socket can take more. */
  async replay(entries: readonly StreamEntry[], frameOf: (entry: StreamEntry) => string): Promise<void> {
    let text = '';
    let count = 0;
    for (const entry of entries) {
      if (!this.follows(entry.event.matchId)) continue;
      if (this.cursor !== undefined && compareStreamIds(entry.id, this.cursor) <= 0) continue;
      this.cursor = entry.id;
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
    return new Promise((resolve) => {
      const done = () => {
        this.#sink.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.#sink.once('drain', done);
      this.response.once('close', done);
    });
  }

  /** True when live events were lost from the hold buffer and history must be read again. */
  takeHeldOverflow(): boolean {
    const overflowed = this.#heldOverflow;
    this.#heldOverflow = false;
    if (overflowed) this.#held = [];
    return overflowed;
  }

  /** Ends catch-up: the held live events after the cursor go out, then live delivery. */
  goLive(): void {
    this.#catchingUp = false;
    const held = this.#held;
    this.#held = [];
    for (const event of held) this.#accept(event);
    this.flush();
  }

  /** Ends the response; events still queued are counted as dropped (they replay on resume). */
  close(reason: DropReason = 'shutdown'): void {
    if (this.#closed) return;
    if (this.#queuedEvents > 0) this.#options.hooks.dropped(reason, this.#queuedEvents);
    this.#clearQueue();
    this.response.end();
    this.#markClosed();
  }

  #write(frames: readonly WireFrame[]): boolean {
    if (!this.#direct) return this.response.write(frames.length === 1 ? (frames[0] as WireFrame).bytes : Buffer.concat(frames.map((f) => f.bytes)));
    const socket = this.#sink as Socket;
    if (socket.destroyed) return true;
    const chunked = this.#chunked;
    if (frames.length === 1) {
      const frame = frames[0] as WireFrame;
      return socket.write(chunked ? frame.chunk : frame.bytes);
    }
    const parts: Buffer[] = [];
    for (const frame of frames) parts.push(chunked ? frame.chunk : frame.bytes);
    return socket.write(Buffer.concat(parts));
  }

  #clearQueue(): void {
    this.#queue.length = 0;
    this.#queuedEvents = 0;
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = [];
    this.#options.hooks.closed(this);
  }
}
