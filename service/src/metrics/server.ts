// The metrics endpoint: Prometheus text on its own port, so scrapes never share the public
// listener and the public routes can never expose it. The service, the cluster primary
// (which sums its workers) and the controller all serve theirs through this one listener.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';

/** Anything that renders Prometheus text: a prom-client Registry, or a cluster aggregate. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export async function startMetricsServer(source: MetricsSource, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '/').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    source.metrics().then(
      (text) => response.writeHead(200, { 'content-type': source.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
