// One SSE connection: a cursor that never goes backwards (no duplicates across replay and
// live), and a bounded queue that fills only while the socket pushes back: once more than
// `socketBufferBytes` wait in the socket's own buffer, events wait in the queue instead. When the queue
// is full, events are dropped and counted (policy "drop", and the client is told with a
// `resync` before the next event it gets) or the client is disconnected so it resumes
// losslessly with Last-Event-ID (policy "disconnect").
import type { ServerResponse } from 'node:http';
import { compareStreamIds, type StreamEntry } from '../bus/index.ts';
import type { DropReason } from '../metrics/index.ts';
import { controlFrame } from './frames.ts';

export interface ClientQueueHooks {
  /** Events written; `eventTimes` holds their timestamps (ms), NaN for control frames. */
  sent(eventTimes: readonly number[]): void;
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
  #frames: string[] = [];
  #eventTimes: number[] = [];
  #blocked = false;
  #gap = false;
  #closed = false;
  #catchingUp = false;
  /** Live events that arrive while the client catches up from the stream. */
  #held: { entry: StreamEntry; frame: string }[] = [];
  #heldOverflow = false;
  readonly #options: ClientQueueOptions;

  constructor(response: ServerResponse, options: ClientQueueOptions) {
    this.response = response;
    this.rooms = options.rooms;
    this.#options = options;
    response.on('drain', () => {
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
    return this.#frames.length;
  }

  follows(matchId: string): boolean {
    return this.rooms === null || this.rooms.has(matchId);
  }

  /** Accepts a live event (already serialised); call flush() after the batch. */
  offer(entry: StreamEntry, frame: string): void {
    if (this.#closed) return;
    if (this.#catchingUp) {
      if (this.#held.length >= this.#options.limit) this.#heldOverflow = true;
      else this.#held.push({ entry, frame });
      return;
    }
    this.#accept(entry, frame, Date.parse(entry.event.timestamp));
  }

  #accept(entry: StreamEntry, frame: string, eventTime: number): void {
    if (this.cursor !== undefined && compareStreamIds(entry.id, this.cursor) <= 0) return;
    this.cursor = entry.id;
    if (this.#frames.length >= this.#options.limit) {
      if (this.#options.overflowPolicy === 'disconnect') {
        this.#options.hooks.dropped('slow_client_disconnected', this.#frames.length + 1);
        this.#frames = [];
        this.#eventTimes = [];
        this.close();
      } else {
        this.#options.hooks.dropped('queue_full', 1);
        this.#gap = true;
      }
      return;
    }
    if (this.#gap) {
      this.#gap = false;
      this.#frames.push(controlFrame('resync', { reason: 'events_dropped' }));
      this.#eventTimes.push(Number.NaN);
    }
    this.#frames.push(frame);
    this.#eventTimes.push(eventTime);
  }

  /** Writes everything queued in one write, unless the socket is pushing back. */
  flush(): void {
    if (this.#blocked || this.#closed || this.#frames.length === 0) return;
    const frames = this.#frames;
    const times = this.#eventTimes;
    this.#frames = [];
    this.#eventTimes = [];
    const ok = this.response.write(frames.length === 1 ? (frames[0] as string) : frames.join(''));
    this.#options.hooks.sent(times);
    // A write past the high-water mark returns false at once, even for a reader that keeps
    // up; only a buffer past the budget means this client is slow. 'drain' unblocks it.
    if (!ok && this.response.writableLength > this.#options.socketBufferBytes) this.#blocked = true;
  }

  /** Writes a frame that is not a stream event (retry hint, heartbeat, control), if writable. */
  writeRaw(frame: string, evenIfBlocked = false): void {
    if (this.#closed || (this.#blocked && !evenIfBlocked)) return;
    if (!this.response.write(frame)) this.#blocked = true;
  }

  /** Starts holding live events back while stream history is replayed from `cursor`. */
  beginCatchUp(cursor: string): void {
    this.cursor = cursor;
    this.#catchingUp = true;
  }

  /** Writes a batch of replayed entries; resolves when the socket can take more. */
  async replay(entries: readonly StreamEntry[], frameOf: (entry: StreamEntry) => string): Promise<void> {
    let chunk = '';
    let count = 0;
    for (const entry of entries) {
      if (!this.follows(entry.event.matchId)) continue;
      if (this.cursor !== undefined && compareStreamIds(entry.id, this.cursor) <= 0) continue;
      this.cursor = entry.id;
      chunk += frameOf(entry);
      count++;
    }
    if (count === 0 || this.#closed) return;
    const ok = this.response.write(chunk);
    this.#options.hooks.replayed(count);
    if (!ok) await new Promise<void>((resolve) => this.response.once('drain', resolve).once('close', resolve));
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
    for (const { entry, frame } of held) this.#accept(entry, frame, Date.parse(entry.event.timestamp));
    this.flush();
  }

  /** Ends the response; events still queued are counted as dropped (they replay on resume). */
  close(reason: DropReason = 'shutdown'): void {
    if (this.#closed) return;
    const undelivered = this.#eventTimes.filter((time) => !Number.isNaN(time)).length;
    if (undelivered > 0) this.#options.hooks.dropped(reason, undelivered);
    this.#frames = [];
    this.#eventTimes = [];
    this.response.end();
    this.#markClosed();
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = [];
    this.#options.hooks.closed(this);
  }
}
