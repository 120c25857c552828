// A round-robin TCP proxy on loopback, as a Kubernetes Service's kube-proxy spreads
// connections over the ready pods: each accepted connection goes, whole, to the next
// backend. Bytes pass through with back-pressure (a client that stops reading stops the
// backend's writes, as it would through a real Service). Connections can keep separate
// rotations by what they start with (their request line), so that, for example, SSE streams
// alternate strictly between the backends whatever the publishing traffic beside them does.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Backend {
  readonly host: string;
  readonly port: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:<port>, the address clients use. */
  readonly url: string;
  /** Connections handed to each backend so far, by rotation, in backend order. */
  connections(rotation?: string): number[];
  close(): Promise<void>;
}

export interface RoundRobinOptions {
  /** The rotation a connection belongs to, from its first bytes; one rotation when absent. */
  readonly rotationOf?: (firstBytes: Buffer) => string;
}

export async function startRoundRobinProxy(
  backends: readonly Backend[],
  options: RoundRobinOptions = {},
): Promise<RoundRobinProxy> {
  if (backends.length === 0) throw new Error('a round-robin proxy needs at least one backend');
  const counts = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    client.once('data', (first: Buffer) => {
      const rotation = options.rotationOf?.(first) ?? '';
      const handed = counts.get(rotation) ?? backends.map(() => 0);
      counts.set(rotation, handed);
      const total = handed.reduce((sum, count) => sum + count, 0);
      const index = total % backends.length;
      handed[index] = (handed[index] ?? 0) + 1;
      const backend = backends[index] as Backend;
      const upstream = connect(backend.port, backend.host);
      track(upstream);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      // Either side failing or closing ends the pair, as a connection-level proxy does.
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    client.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: (rotation = '') => [...(counts.get(rotation) ?? backends.map(() => 0))],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
