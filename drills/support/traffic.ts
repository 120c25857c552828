// The traffic of a drill, and its ledger: a producer publishing at a steady pace through
// whichever instance is Ready (the Kubernetes Service's job), and SSE clients that read and
// resume the way a browser's EventSource does (reconnect after the advertised retry, with
// Last-Event-ID, to whichever instance is Ready). At the end the ledger says, per client,
// whether it received every accepted event exactly once and in order.
import { SseTestClient } from '#test-support/sse-client';
import { token } from '#test-support/instance';

/** Base URL of a Ready instance, or undefined while none is (the Service has no endpoints). */
export type Endpoint = () => string | undefined;

export interface PublishLedger {
  /** Stream ids answered 202, in publish order (= stream order: one publish at a time). */
  readonly accepted: string[];
  /** Answers 503, with the Retry-After they carried. */
  readonly unavailable: { readonly at: number; readonly retryAfter: string | null }[];
  /** Requests whose outcome is unknown (connection reset, timeout): the entry may or may not exist. */
  unknown: number;
}

export interface ProducerOptions {
  /** Pause between two publishes. */
  readonly intervalMs: number;
  /** Size of a filler string in each event's data (default none). */
  readonly payloadBytes?: number;
  /** Another producer's ledger, so several producers account into one. */
  readonly ledger?: PublishLedger;
}

export class Producer {
  readonly ledger: PublishLedger;
  readonly #endpoint: Endpoint;
  readonly #intervalMs: number;
  readonly #filler: string | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #seq = 0;

  constructor(endpoint: Endpoint, options: ProducerOptions) {
    this.#endpoint = endpoint;
    this.#intervalMs = options.intervalMs;
    this.ledger = options.ledger ?? { accepted: [], unavailable: [], unknown: 0 };
    this.#filler = options.payloadBytes === undefined ? undefined : 'x'.repeat(options.payloadBytes);
  }

  start(): void {
    this.#running = this.#loop();
  }

  /** Publishes `count` events now, as fast as they are accepted (a burst). */
  async burst(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.publishOne();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      await this.publishOne();
      await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
    }
  }

  async publishOne(): Promise<void> {
    const base = this.#endpoint();
    if (base === undefined) return;
    const seq = this.#seq++;
    try {
      const response = await fetch(`${base}/api/realtime/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token('producer')}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          matchId: `m-${seq % 5}`,
          action: 'match:updated',
          data: this.#filler === undefined ? { seq } : { seq, filler: this.#filler },
        }),
        signal: AbortSignal.timeout(3_000),
      });
      if (response.status === 202) this.ledger.accepted.push(((await response.json()) as { id: string }).id);
      else if (response.status === 503)
        this.ledger.unavailable.push({ at: Date.now(), retryAfter: response.headers.get('retry-after') });
      else throw new Error(`publish answered ${response.status}: ${await response.text()}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('publish answered')) throw error;
      this.ledger.unknown++;
    }
  }
}

export interface ClientReport {
  readonly name: string;
  readonly received: number;
  readonly missing: string[];
  readonly duplicates: string[];
  readonly outOfOrder: number;
  /** Received ids nobody saw accepted (publishes whose answer was lost). */
  readonly unexpected: string[];
  readonly resyncs: number;
  readonly connections: number;
}

/** An SSE client that resumes like EventSource: after the retry hint, with the last id it saw. */
export class ResumingClient {
  readonly name: string;
  readonly ids: string[] = [];
  readonly connections: SseTestClient[] = [];
  resyncs = 0;
  /** The base URL of the instance it is connected to now. */
  connectedTo: string | undefined;
  readonly #endpoint: Endpoint;
  #current: SseTestClient | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(name: string, endpoint: Endpoint) {
    this.name = name;
    this.#endpoint = endpoint;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    let retryMs = 1_000;
    while (!this.#stopped) {
      const base = this.#endpoint();
      if (base !== undefined) {
        const lastEventId = this.ids.at(-1);
        const client = await SseTestClient.open(base, {
          token: await token('admin', [], { sub: this.name }),
          ...(lastEventId === undefined ? {} : { lastEventId }),
        }).catch(() => undefined);
        if (client !== undefined && client.status === 200) {
          this.#current = client;
          this.connectedTo = base;
          this.connections.push(client);
          let seen = 0;
          while (!client.ended && !this.#stopped) {
            seen = this.#take(client, seen);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          this.#take(client, seen);
          retryMs = client.retry ?? retryMs;
          this.connectedTo = undefined;
        }
      }
      if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }

  #take(client: SseTestClient, seen: number): number {
    for (const event of client.events.slice(seen)) {
      if (event.id !== undefined) this.ids.push(event.id);
      else if (event.event === 'resync') this.resyncs++;
    }
    return client.events.length;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#current?.close();
    await this.#loop;
  }

  report(ledger: PublishLedger): ClientReport {
    const accepted = new Set(ledger.accepted);
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const id of this.ids) {
      if (seen.has(id)) duplicates.push(id);
      seen.add(id);
    }
    let outOfOrder = 0;
    for (let i = 1; i < this.ids.length; i++) if (compareIds(this.ids[i - 1]!, this.ids[i]!) >= 0) outOfOrder++;
    return {
      name: this.name,
      received: this.ids.length,
      missing: ledger.accepted.filter((id) => !seen.has(id)),
      duplicates,
      outOfOrder,
      unexpected: [...seen].filter((id) => !accepted.has(id)),
      resyncs: this.resyncs,
      connections: this.connections.length,
    };
  }
}

/** Orders Redis stream ids (<ms>-<seq>) numerically. */
export function compareIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
