// An event stream's connection once its headers are on the wire. The stream never reads
// another request from it, yet Node's HTTP server keeps, for as long as a connection is
// open, a native request parser (about 7 KB each, measured on Node 24) and the request and
// response bookkeeping around it. So the stream takes the socket over the way Node itself
// does for an `Upgrade`: the server's listeners come off the socket and the parser goes
// back to Node's pool. What stays per stream is the socket and what the fan-out holds.
//
// Taking over relies on how Node's HTTP server wires a connection (its listeners on the
// socket, `socket.parser`, `_http_common.freeParser`). Every piece is checked before
// anything is changed; when one is not as expected the stream keeps its ServerResponse,
// writes the same bytes and ends the same way, and only the memory saving is lost.
// service/test/sse-connection.test.ts fails when the pinned Node stops allowing it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Where a stream's frames go: straight to its socket. */
export interface StreamConnection {
  readonly socket: Socket;
  /** True when the body is framed as HTTP/1.1 chunks (false for HTTP/1.0 clients). */
  readonly chunked: boolean;
  /** True when Node's HTTP server no longer tracks this connection. */
  readonly detached: boolean;
  /** Ends the body; the connection closes after it. */
  end(): void;
}

interface HttpParser {
  incoming: IncomingMessage | null;
  _consumed?: boolean;
  unconsume(): void;
}

type SocketWithParser = Socket & { parser?: HttpParser | null };

type FreeParser = (parser: HttpParser, request: IncomingMessage, socket: Socket) => void;

/** The listeners Node's HTTP server puts on every connection, by event and function name. */
const SERVER_LISTENERS: Readonly<Record<string, string>> = {
  data: 'bound socketOnData',
  end: 'bound socketOnEnd',
  close: 'bound socketOnClose',
  drain: 'bound socketOnDrain',
  error: 'socketOnError',
  timeout: 'socketOnTimeout',
  pause: 'onSocketPause',
  resume: 'onSocketResume',
};

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** One listener function for every stream socket (`this` is the socket), not a closure each. */
function destroySocket(this: Socket): void {
  this.destroy();
}

const freeParser = ((): FreeParser | undefined => {
  const common = process.getBuiltinModule('_http_common') as { freeParser?: unknown } | undefined;
  return typeof common?.freeParser === 'function' ? (common.freeParser as FreeParser) : undefined;
})();

/** The server's own listener of `event` on the socket, when it is there exactly once. */
function serverListener(socket: Socket, event: string): ((...args: unknown[]) => void) | undefined {
  const name = SERVER_LISTENERS[event];
  const found = socket.listeners(event).filter((listener) => listener.name === name);
  return found.length === 1 ? (found[0] as (...args: unknown[]) => void) : undefined;
}

/**
 * Detaches the socket from Node's HTTP server, as for an Upgrade; returns false, changing
 * nothing, when the connection is not wired as expected (or a pipelined request follows).
 */
function detach(request: IncomingMessage, response: ServerResponse, socket: SocketWithParser): boolean {
  const parser = socket.parser;
  if (freeParser === undefined || parser?.incoming !== request || !request.complete) return false;
  const listeners = new Map<string, (...args: unknown[]) => void>();
  for (const event of Object.keys(SERVER_LISTENERS)) {
    const listener = serverListener(socket, event);
    if (listener === undefined) return false;
    listeners.set(event, listener);
  }
  response.detachSocket(socket);
  for (const [event, listener] of listeners) socket.removeListener(event, listener);
  freeParser(parser, request, socket);
  // The client sends nothing more on a stream; reading on lets its close be seen.
  socket.on('end', destroySocket);
  socket.resume();
  return true;
}

/** A stream on its socket, detached from the HTTP server as soon as the request is complete. */
class SocketStream implements StreamConnection {
  readonly socket: Socket;
  readonly chunked: boolean;
  #ended = false;
  /** Kept until the socket is detached; afterwards nothing of the HTTP exchange is. */
  #exchange: { request: IncomingMessage; response: ServerResponse } | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, socket: Socket) {
    this.socket = socket;
    this.chunked = response.chunkedEncoding;
    this.#exchange = { request, response };
    // A request handler called while Node is still parsing the request (one without async
    // hooks before it) sees it incomplete; Node finishes it before the next tick.
    if (!this.#detach()) process.nextTick(() => this.#detach());
  }

  get detached(): boolean {
    return this.#exchange === undefined;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#exchange !== undefined) {
      this.#exchange.response.end();
      return;
    }
    const { socket } = this;
    if (socket.destroyed) return;
    // Nothing more will be read or written: the socket goes once the last bytes are out.
    const done = () => socket.destroy();
    if (this.chunked) socket.end(LAST_CHUNK, done);
    else socket.end(done);
  }

  #detach(): boolean {
    const exchange = this.#exchange;
    if (exchange === undefined || this.#ended || this.socket.destroyed) return true;
    if (!detach(exchange.request, exchange.response, this.socket)) return false;
    this.#exchange = undefined;
    return true;
  }
}

/**
 * Sends the status line, the headers and `first` (the retry hint), then hands the stream
 * its connection. Returns undefined when there is no stream to feed: a HEAD request (headers
 * only), a client that is gone, or a request pipelined behind another response on its
 * connection (it gets the headers and an empty body, and reconnects after the retry hint).
 */
export function openStream(
  request: IncomingMessage,
  response: ServerResponse,
  headers: Readonly<Record<string, string>>,
  first: string,
): StreamConnection | undefined {
  response.writeHead(200, headers);
  const socket = response.socket;
  if (request.method === 'HEAD' || socket === null || socket.destroyed) {
    response.end();
    return undefined;
  }
  response.write(first);
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  // A socket error only means the client is gone: 'close' follows and ends the stream.
  socket.on('error', destroySocket);
  return new SocketStream(request, response, socket);
}
