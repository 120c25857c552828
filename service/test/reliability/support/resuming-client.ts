// A light SSE client that behaves like a browser's EventSource behind a load balancer: it
// keeps the id of the last complete event, and when its stream ends or its instance is gone
// it reconnects with Last-Event-ID, to the same instance or, when that one refuses, the next.
// It keeps only what the checks need (ids, control events, refusals), so thousands of them
// fit in one test worker.
import { request, type ClientRequest } from 'node:http';
import { compareStreamIds } from '../../../src/bus/index.ts';

export interface ResumingClientOptions {
  /** Instances in the order this client tries them. */
  readonly urls: readonly string[];
  readonly token: string;
  readonly rooms?: readonly string[];
  /** Resume point for the first connection. */
  readonly lastEventId?: string;
  /** Pause before a reconnect; the service advertises 5 s, tests use less. */
  readonly reconnectDelayMs?: number;
  /** Sees every stream event as it arrives (e.g. to measure latency from its timestamp). */
  readonly onEvent?: (id: string, data: string) => void;
}

export class ResumingClient {
  /** Ids of the stream events received, in arrival order (duplicates included, to be counted). */
  readonly ids: string[] = [];
  readonly controlEvents: string[] = [];
  /** Statuses of refused connection attempts (non-200). */
  readonly refusals: number[] = [];
  /** Ids that arrived at or before the previous one: duplicates or reordering. */
  outOfOrder = 0;
  /** Successful (200) stream connections. */
  connections = 0;
  /** Attempts that failed at the socket (refused, reset). */
  socketErrors = 0;
  lastEventId: string | undefined;
  #urlIndex = 0;
  #request: ClientRequest | undefined;
  #stopped = false;
  #connected: Promise<void> | undefined;
  readonly #options: ResumingClientOptions;

  constructor(options: ResumingClientOptions) {
    this.#options = options;
    this.lastEventId = options.lastEventId;
  }

  /** Opens the stream; resolves once the first connection answered 200. */
  start(): Promise<void> {
    this.#connected ??= new Promise((resolve, reject) => this.#connect(resolve, reject));
    return this.#connected;
  }

  get currentUrl(): string {
    return this.#options.urls[this.#urlIndex % this.#options.urls.length] as string;
  }

  stop(): void {
    this.#stopped = true;
    this.#request?.destroy();
  }

  #connect(onOpen?: () => void, onFail?: (error: Error) => void): void {
    if (this.#stopped) return;
    const url = new URL('/api/realtime/stream', this.currentUrl);
    for (const room of this.#options.rooms ?? []) url.searchParams.append('matchId', room);
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${this.#options.token}`,
    };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    let settled = false;
    const retry = (nextInstance: boolean) => {
      if (settled) return;
      settled = true;
      if (nextInstance) this.#urlIndex++;
      const delay = this.#options.reconnectDelayMs ?? 50;
      setTimeout(() => this.#connect(onOpen, onFail), delay + Math.random() * delay);
    };
    const req = request(url, { headers, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        this.refusals.push(response.statusCode ?? 0);
        response.resume();
        // A refusal is an answer, not an outage: report it instead of retrying forever.
        if (onOpen !== undefined && this.connections === 0)
          onFail?.(new Error(`stream refused with ${response.statusCode}`));
        else retry(true);
        return;
      }
      this.connections++;
      onOpen?.();
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          this.#frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      // A partial frame at the end is discarded, as EventSource does.
      response.on('close', () => retry(false));
      response.on('error', () => retry(false));
    });
    req.on('error', () => {
      this.socketErrors++;
      retry(true);
    });
    req.end();
    this.#request = req;
  }

  #frame(frame: string): void {
    let id: string | undefined;
    let event: string | undefined;
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (id === undefined) {
      if (event !== undefined) this.controlEvents.push(event);
      return;
    }
    if (this.ids.length > 0 && compareStreamIds(id, this.ids[this.ids.length - 1] as string) <= 0) this.outOfOrder++;
    this.ids.push(id);
    this.lastEventId = id;
    this.#options.onEvent?.(id, data);
  }
}
