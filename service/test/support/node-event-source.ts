// A standard EventSource for tests: the WHATWG one Node itself ships (undici's, behind
// --experimental-eventsource), run in a child process because the flag cannot be turned on
// inside a running worker. It reconnects exactly as the specification says (after the
// server's `retry:` hint, never after a non-200 answer), which is what a throttled browser
// tab does; the parent reads what it saw as JSON lines. Token in ?access_token=, as browsers
// pass it. Chromium's own EventSource is tested by the live page's e2e suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { eventually } from './instance.ts';

/** What the EventSource reported: open, error (with its readyState), or an event. */
export interface EventSourceRecord {
  readonly type: 'open' | 'error' | 'event';
  /** 0 connecting, 1 open, 2 closed for good. */
  readonly readyState: number;
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
}

const SCRIPT = `
const [url, names] = [process.argv[1], JSON.parse(process.argv[2])];
const source = new EventSource(url);
const say = (record) => process.stdout.write(JSON.stringify({ readyState: source.readyState, ...record }) + '\\n');
source.onopen = () => say({ type: 'open' });
source.onerror = () => say({ type: 'error' });
for (const name of ['message', ...names])
  source.addEventListener(name, (e) => say({ type: 'event', event: e.type, id: e.lastEventId, data: e.data }));
process.stdin.on('end', () => { source.close(); process.exit(0); });
process.stdin.resume();
`;

export class NodeEventSource {
  readonly records: EventSourceRecord[] = [];
  readonly #child: ChildProcess;

  /** Opens `url` and listens for the named events besides unnamed ones. */
  constructor(url: string, eventNames: readonly string[] = []) {
    this.#child = spawn(
      process.execPath,
      ['--experimental-eventsource', '--no-warnings', '-e', SCRIPT, url, JSON.stringify(eventNames)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    if (this.#child.stdout === null) throw new Error('no stdout from the EventSource process');
    createInterface({ input: this.#child.stdout }).on('line', (line) =>
      this.records.push(JSON.parse(line) as EventSourceRecord),
    );
  }

  count(type: EventSourceRecord['type']): number {
    return this.records.filter((record) => record.type === type).length;
  }

  get events(): EventSourceRecord[] {
    return this.records.filter((record) => record.type === 'event');
  }

  async waitFor(check: (source: NodeEventSource) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    await eventually(() => check(this), what, timeoutMs);
  }

  /** Closes the EventSource and waits for its process to exit. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin?.end();
    await exited;
  }
}
