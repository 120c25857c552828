// The stream's connection (sse/connection.ts): on the pinned Node the socket is taken away
// from the HTTP server once the headers are out (so the server's per-connection parser is
// released), frames and the end of the body still reach the client in HTTP/1.1 and 1.0,
// HEAD gets headers only, and when Node's wiring is not as expected nothing is detached
// and the response path does the same job.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openStream, type StreamConnection } from '../src/sse/connection.ts';
import { eventually } from '#test-support/instance';

const HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

interface Opened {
  readonly connection: StreamConnection | undefined;
  readonly socket: Socket;
}

/** A plain HTTP server whose every request opens a stream; `prepare` runs first. */
async function streamServer(prepare: (request: IncomingMessage, response: ServerResponse) => void = () => undefined) {
  const opened: Opened[] = [];
  const server = createServer((request, response) => {
    prepare(request, response);
    const socket = request.socket;
    opened.push({ connection: openStream(request, response, HEADERS, 'retry: 1000\n\n'), socket });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, opened, port: (server.address() as AddressInfo).port };
}

/** A raw client: everything it receives, as text. */
function rawClient(port: number, request: string) {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  const state = { received: '', ended: false, closed: false };
  socket.on('data', (chunk: Buffer) => (state.received += chunk.toString('latin1')));
  socket.on('end', () => (state.ended = true));
  socket.on('close', () => (state.closed = true));
  socket.write(request);
  return { socket, state };
}

const GET = 'GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('a stream connection', () => {
  it('is taken away from the HTTP server on this Node version: no parser, none of its listeners', async () => {
    const { opened, port } = await streamServer();
    const client = rawClient(port, GET);
    await eventually(() => client.state.received.includes('retry: 1000'), 'the head and the retry hint');
    const [{ connection, socket }] = opened as [Opened];
    expect(connection?.detached).toBe(true);
    expect((socket as Socket & { parser?: unknown }).parser).toBeNull();
    const names = ['data', 'end', 'close', 'drain', 'error', 'timeout', 'pause', 'resume'].flatMap((event) =>
      socket.listeners(event).map((listener) => listener.name),
    );
    expect(names.filter((name) => /socketOn|onSocket/.test(name))).toEqual([]);
    expect(client.state.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.state.received).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
  });

  it('carries frames written to the socket and ends with the last chunk, then closes', async () => {
    const { opened, port } = await streamServer();
    const client = rawClient(port, GET);
    await eventually(() => opened.length === 1 && client.state.received.includes('retry'), 'the stream');
    const connection = (opened[0] as Opened).connection as StreamConnection;
    connection.socket.write(Buffer.from('5\r\nhello\r\n', 'latin1'));
    await eventually(() => client.state.received.includes('5\r\nhello\r\n'), 'the frame');
    connection.end();
    await eventually(() => client.state.ended, 'the end of the connection');
    expect(client.state.received.endsWith('5\r\nhello\r\n0\r\n\r\n')).toBe(true);
    await eventually(() => connection.socket.destroyed, 'the server side to go');
  });

  it('sends an HTTP/1.0 client the body unframed and closes without a last chunk', async () => {
    const { opened, port } = await streamServer();
    const client = rawClient(port, 'GET /stream HTTP/1.0\r\n\r\n');
    await eventually(() => opened.length === 1 && client.state.received.includes('retry'), 'the stream');
    const connection = (opened[0] as Opened).connection as StreamConnection;
    expect(connection.chunked).toBe(false);
    connection.socket.write('data: x\n\n');
    connection.end();
    await eventually(() => client.state.ended, 'the end of the connection');
    expect(client.state.received.slice(client.state.received.indexOf('\r\n\r\n') + 4)).toBe(
      'retry: 1000\n\ndata: x\n\n',
    );
  });

  it('notices a client that goes away, and ignores bytes a client sends after its request', async () => {
    const { opened, port } = await streamServer();
    const client = rawClient(port, GET);
    await eventually(() => opened.length === 1 && client.state.received.includes('retry'), 'the stream');
    const connection = (opened[0] as Opened).connection as StreamConnection;
    let closed = false;
    connection.socket.on('close', () => (closed = true));
    client.socket.write('not a request\r\n\r\n');
    connection.socket.write('data: still here\n\n');
    await eventually(() => client.state.received.includes('still here'), 'a frame after the stray bytes');
    client.socket.end();
    await eventually(() => closed, 'the server socket to close');
  });

  it('answers HEAD with the headers only and opens no stream', async () => {
    const { opened, port } = await streamServer();
    const client = rawClient(port, 'HEAD /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await eventually(() => opened.length === 1 && client.state.received.includes('\r\n\r\n'), 'the head');
    expect((opened[0] as Opened).connection).toBeUndefined();
    expect(client.state.received).toContain('content-type: text/event-stream');
    expect(client.state.received.slice(client.state.received.indexOf('\r\n\r\n') + 4)).toBe('');
  });

  it('keeps the response when Node wired the connection differently, and ends it the same way', async () => {
    // Stands in for a Node whose HTTP server no longer puts this listener on the socket.
    const { opened, port } = await streamServer((request) => {
      const drain = request.socket.listeners('drain').find((listener) => listener.name === 'bound socketOnDrain');
      if (drain !== undefined) request.socket.removeListener('drain', drain as () => void);
    });
    const client = rawClient(port, GET);
    await eventually(() => opened.length === 1 && client.state.received.includes('retry'), 'the stream');
    const connection = (opened[0] as Opened).connection as StreamConnection;
    expect(connection.detached).toBe(false);
    expect((connection.socket as Socket & { parser?: unknown }).parser).not.toBeNull();
    connection.socket.write(Buffer.from('5\r\nhello\r\n', 'latin1'));
    connection.end();
    await eventually(() => client.state.received.endsWith('5\r\nhello\r\n0\r\n\r\n'), 'the frame and the last chunk');
    // Still an HTTP connection: the next request on it is served.
    client.socket.write(GET);
    await eventually(() => opened.length === 2, 'the next request on the same connection');
  });

  it('ends a stream pipelined behind another response instead of feeding it', async () => {
    let first = true;
    const held: ServerResponse[] = [];
    const { opened, port } = await streamServer();
    const server = servers[0] as Server;
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (first) {
        first = false;
        held.push(response);
        return;
      }
      opened.push({ connection: openStream(request, response, HEADERS, 'retry: 1000\n\n'), socket: request.socket });
    });
    const client = rawClient(port, GET + GET);
    await eventually(() => opened.length === 1, 'the pipelined request');
    expect((opened[0] as Opened).connection).toBeUndefined();
    (held[0] as ServerResponse).end('first');
    await eventually(() => client.state.received.split('HTTP/1.1 200').length === 3, 'both responses');
    expect(client.state.received.endsWith('0\r\n\r\n')).toBe(true);
  });
});
