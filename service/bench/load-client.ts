// The load client, shared by both servers so they are driven identically. It runs in the
// benchmark's own process (pinned to another core than the server), so it is frugal: raw
// TCP sockets, one latin1 decode per read, and only two things looked for in the stream:
// the publish time embedded in each event ("pt":<ms>) and, for the resume test, `id:` lines.
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch with sub-millisecond resolution (same clock both sides). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Publish→receive latencies in 0.1 ms buckets up to 60 s: fixed memory at any rate. */
export class LatencyHistogram {
  readonly #buckets = new Uint32Array(600_000);
  count = 0;

  record(ms: number): void {
    const bucket = Math.min(this.#buckets.length - 1, Math.max(0, Math.floor(ms * 10)));
    this.#buckets[bucket] = (this.#buckets[bucket] ?? 0) + 1;
    this.count++;
  }

  /** The q-quantile in milliseconds (upper edge of its bucket). */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i] ?? 0;
      if (seen >= rank) return (i + 1) / 10;
    }
    return Number.NaN;
  }

  reset(): void {
    this.#buckets.fill(0);
    this.count = 0;
  }
}

/** How a load client reaches one server: paths, headers and the publish body. */
export interface TargetProtocol {
  readonly port: number;
  subscribePath(room: string): string;
  /** Extra request header lines, each ending in \r\n. */
  readonly subscribeHeaders: string;
  publishPath(room: string): string;
  readonly publishHeaders: Record<string, string>;
  /** The event as the server should carry it; must contain "pt":<ms>. */
  publishBody(room: string, pt: number, seq: number): string;
}

const PT = '"pt":';

/** One SSE subscriber on a raw socket. */
export class Subscriber {
  events = 0;
  /** Socket reads that returned data: events / reads shows how much the server coalesces. */
  reads = 0;
  lastId: string | undefined;
  status = 0;
  readonly ready: Promise<void>;
  readonly #socket: Socket;
  readonly #histogram: LatencyHistogram;
  readonly #trackIds: boolean;
  #rest = '';
  #headersDone = false;

  constructor(options: {
    protocol: TargetProtocol;
    room: string;
    histogram: LatencyHistogram;
    localAddress: string;
    lastEventId?: string;
    trackIds?: boolean;
  }) {
    const { protocol, room } = options;
    this.#histogram = options.histogram;
    this.#trackIds = options.trackIds ?? false;
    this.#socket = connect({ host: '127.0.0.1', port: protocol.port, localAddress: options.localAddress });
    this.#socket.setNoDelay(true);
    const resume = options.lastEventId === undefined ? '' : `Last-Event-ID: ${options.lastEventId}\r\n`;
    this.#socket.write(
      `GET ${protocol.subscribePath(room)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${protocol.subscribeHeaders}${resume}\r\n`,
    );
    this.ready = new Promise((resolve, reject) => {
      const fail = (error?: Error) =>
        reject(error ?? new Error(`subscriber closed before its headers (status ${this.status})`));
      this.#socket.once('error', fail);
      this.#socket.once('close', () => fail());
      this.#socket.on('data', (chunk: Buffer) => this.#read(chunk, resolve, reject));
    });
    // Errors after the headers (reset at teardown) are expected; keep them from throwing.
    this.ready.catch(() => undefined);
  }

  #read(chunk: Buffer, resolve: () => void, reject: (error: Error) => void): void {
    this.reads++;
    let text = this.#rest + chunk.toString('latin1');
    if (!this.#headersDone) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        this.#rest = text;
        return;
      }
      this.status = Number(text.slice(9, 12));
      this.#headersDone = true;
      text = text.slice(end + 4);
      if (this.status !== 200) {
        reject(new Error(`subscriber got HTTP ${this.status}: ${text.slice(0, 200)}`));
        this.#socket.destroy();
        return;
      }
      resolve();
    }
    const last = text.lastIndexOf('\n\n');
    if (last < 0) {
      this.#rest = text;
      return;
    }
    this.#rest = text.slice(last + 2);
    const now = nowMs();
    let at = text.indexOf(PT);
    while (at !== -1 && at < last) {
      let end = at + PT.length;
      for (let c = text.charCodeAt(end); (c >= 48 && c <= 57) || c === 46; c = text.charCodeAt(++end));
      this.#histogram.record(now - Number(text.slice(at + PT.length, end)));
      this.events++;
      at = text.indexOf(PT, end);
    }
    if (this.#trackIds) {
      let idAt = text.lastIndexOf('id: ', last);
      while (idAt > 0 && text[idAt - 1] !== '\n') idAt = text.lastIndexOf('id: ', idAt - 1);
      if (idAt >= 0) this.lastId = text.slice(idAt + 4, text.indexOf('\n', idAt));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** Loopback source addresses to spread many connections over (each has its own port range). */
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

/** Opens `count` subscribers on `room`, `concurrency` handshakes at a time. */
export async function connectSubscribers(
  protocol: TargetProtocol,
  room: string,
  count: number,
  histogram: LatencyHistogram,
  concurrency = 200,
): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = [];
  for (let start = 0; start < count; start += concurrency) {
    const wave: Subscriber[] = [];
    for (let i = start; i < Math.min(count, start + concurrency); i++) {
      wave.push(new Subscriber({ protocol, room, histogram, localAddress: SOURCES[i % SOURCES.length] as string }));
    }
    await Promise.all(wave.map((subscriber) => subscriber.ready));
    subscribers.push(...wave);
  }
  return subscribers;
}

export function closeAll(subscribers: readonly Subscriber[]): void {
  for (const subscriber of subscribers) subscriber.close();
}

export function eventsReceived(subscribers: readonly Subscriber[]): number {
  let total = 0;
  for (const subscriber of subscribers) total += subscriber.events;
  return total;
}

export function readsMade(subscribers: readonly Subscriber[]): number {
  let total = 0;
  for (const subscriber of subscribers) total += subscriber.reads;
  return total;
}

/** Publishes over a few keep-alive connections; counts failures instead of throwing. */
export class Publisher {
  readonly #protocol: TargetProtocol;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 8 });
  #seq = 0;
  sent = 0;
  failed = 0;

  constructor(protocol: TargetProtocol) {
    this.#protocol = protocol;
  }

  publish(room: string): Promise<void> {
    const body = this.#protocol.publishBody(room, nowMs(), this.#seq++);
    return new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.#protocol.port,
          method: 'POST',
          path: this.#protocol.publishPath(room),
          agent: this.#agent,
          headers: { ...this.#protocol.publishHeaders, 'content-length': Buffer.byteLength(body) },
        },
        (response) => {
          if (response.statusCode !== undefined && response.statusCode < 300) this.sent++;
          else this.failed++;
          response.resume();
          response.once('end', resolve);
        },
      );
      req.once('error', () => {
        this.failed++;
        resolve();
      });
      req.end(body);
    });
  }

  /** Publishes at `rate` events/s for `durationMs`, in 5 ms ticks; resolves when all are answered. */
  async atRate(room: string, rate: number, durationMs: number): Promise<void> {
    const started = nowMs();
    const total = Math.round((rate * durationMs) / 1000);
    const pending: Promise<void>[] = [];
    let issued = 0;
    while (issued < total) {
      const due = Math.min(total, Math.floor(((nowMs() - started) * rate) / 1000) + 1);
      for (; issued < due; issued++) pending.push(this.publish(room));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(pending);
  }

  /** Publishes `count` events as fast as `concurrency` requests in flight allow. */
  async burst(room: string, count: number, concurrency = 32): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await this.publish(room);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  close(): void {
    this.#agent.destroy();
  }
}
