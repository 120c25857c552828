// A TCP proxy in front of Redis that can lose one reply on purpose: armed, it swallows the
// next server reply that contains a marker and cuts the connection, as a network failure or
// a crash between "Redis applied the command" and "the client read the answer" would.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';

export interface CuttingProxy {
  readonly url: string;
  /** Loses the next reply containing `marker`, and cuts that connection. */
  cutNextReplyContaining(marker: string): void;
  /** Replies lost so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startCuttingProxy(redisPort: number): Promise<CuttingProxy> {
  let marker: string | undefined;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: redisPort });
    sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (marker !== undefined && chunk.toString('latin1').includes(marker)) {
        marker = undefined;
        cuts++;
        cut();
        return;
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', cut);
      socket.on('close', () => {
        sockets.delete(socket);
        cut();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    cutNextReplyContaining: (value) => (marker = value),
    get cuts() {
      return cuts;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
