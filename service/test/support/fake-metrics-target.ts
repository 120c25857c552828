// A loopback HTTP server that answers /metrics with whatever text `render` returns at
// scrape time. It stands in for the service or the controller when a test needs series of
// a known shape (healthy, flooded, stuck) in a real Prometheus.
import { once } from 'node:events';
import { createServer } from 'node:http';

export interface FakeMetricsTarget {
  /** host:port for a Prometheus scrape config. */
  readonly address: string;
  readonly scrapes: () => number;
  stop(): Promise<void>;
}

export async function startFakeMetricsTarget(render: () => string): Promise<FakeMetricsTarget> {
  let scrapes = 0;
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrapes += 1;
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return {
    address: `127.0.0.1:${address.port}`,
    scrapes: () => scrapes,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
