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

/** A probe's answer: 200 with the detail when ok, 503 with it when not. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/** Extra GET routes (e.g. /healthz, /readyz) for a process whose only listener is this one. */
export type Probes = Readonly<Record<string, () => ProbeResult>>;

export async function startMetricsServer(
  source: MetricsSource,
  port: number,
  host: string,
  probes: Probes = {},
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const probe = request.method === 'GET' ? probes[path] : undefined;
    if (probe !== undefined) {
      const { ok, detail } = probe();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${detail}\n`);
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
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
