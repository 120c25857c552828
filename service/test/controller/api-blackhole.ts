// A TCP proxy in front of the kube-apiserver that can cut one replica off: once blocked,
// every byte either way is swallowed and sockets stay open, as when a node is partitioned
// (requests hang until the client gives up, nothing is refused). Only the leader-election
// suite uses it.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

export interface ApiBlackhole {
  /** https://127.0.0.1:<port>; the apiserver's certificate holds for 127.0.0.1. */
  readonly server: string;
  block(): void;
  close(): Promise<void>;
}

export async function startApiBlackhole(apiserver: string): Promise<ApiBlackhole> {
  const target = new URL(apiserver);
  let blocked = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (!blocked) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined); // either side may be torn down at close
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the blackhole proxy has no address');
  return {
    server: `https://127.0.0.1:${address.port}`,
    block: () => (blocked = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
