// A test SSE client over plain http: records every event, comment and retry hint, parsed by
// eventsource-parser, and can stop reading to play a slow client.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { createParser } from 'eventsource-parser';
import { eventually } from './instance.ts';

export interface ReceivedEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
  /** When the client parsed it (ms since the epoch). */
  readonly receivedAt: number;
}

export interface StreamOptions {
  readonly token?: string;
  readonly query?: Record<string, string | string[]>;
  readonly lastEventId?: string;
  readonly headers?: Record<string, string>;
}

export class SseTestClient {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  status: number | undefined;
  headers: IncomingMessage['headers'] = {};
  body = '';
  ended = false;
  #request: ClientRequest | undefined;
  #response: IncomingMessage | undefined;

  static async open(baseUrl: string, options: StreamOptions = {}): Promise<SseTestClient> {
    const client = new SseTestClient();
    await client.#open(baseUrl, options);
    return client;
  }

  #open(baseUrl: string, options: StreamOptions): Promise<void> {
    const url = new URL('/api/realtime/stream', baseUrl);
    for (const [name, value] of Object.entries(options.query ?? {}))
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item);
    const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    const parser = createParser({
      onEvent: (message) =>
        this.events.push({ id: message.id, event: message.event, data: message.data, receivedAt: Date.now() }),
      onComment: (comment) => this.comments.push(comment),
      onRetry: (retry) => (this.retry = retry),
    });
    return new Promise((resolve, reject) => {
      this.#request = request(url, { headers, agent: false }, (response) => {
        this.#response = response;
        this.status = response.statusCode;
        this.headers = response.headers;
        response.setEncoding('utf8');
        const streaming = response.statusCode === 200;
        response.on('data', (chunk: string) => (streaming ? parser.feed(chunk) : (this.body += chunk)));
        response.on('end', () => (this.ended = true));
        response.on('close', () => (this.ended = true));
        response.on('error', () => (this.ended = true));
        if (streaming) resolve();
        else response.on('end', () => resolve());
      });
      this.#request.on('error', (error) => (this.status === undefined ? reject(error) : (this.ended = true)));
      this.#request.end();
    });
  }

  /** Stream events only (not resync/shutdown control events). */
  get streamEvents(): ReceivedEvent[] {
    return this.events.filter((event) => event.id !== undefined);
  }

  get ids(): string[] {
    return this.streamEvents.map((event) => event.id as string);
  }

  /** Stops reading from the socket: the server's writes back up. */
  pause(): void {
    this.#response?.pause();
  }

  resume(): void {
    this.#response?.resume();
  }

  async waitForEvents(count: number, timeoutMs = 10_000): Promise<void> {
    await eventually(
      () => this.streamEvents.length >= count,
      `${count} events (have ${this.streamEvents.length})`,
      timeoutMs,
    );
  }

  async waitForEvent(name: string, timeoutMs = 10_000): Promise<ReceivedEvent> {
    await eventually(() => this.events.some((event) => event.event === name), `a ${name} event`, timeoutMs);
    return this.events.find((event) => event.event === name) as ReceivedEvent;
  }

  close(): void {
    this.#request?.destroy();
  }
}
