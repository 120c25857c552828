// The service's Prometheus metrics, one registry per service instance (so two instances in
// one test process never share counters). Names come from the contract.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { TallyHistogram } from './tally-histogram.ts';
import { dropReasons, refusalReasons, serviceMetrics as names, type DropReason } from '../contract/index.ts';

export function createServiceMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = {
    registry,
    connections: new Gauge({
      name: names.connections,
      help: 'Open SSE connections on this instance.',
      registers: [registry],
    }),
    connectionsOpened: new Counter({
      name: names.connectionsOpened,
      help: 'SSE connections accepted.',
      registers: [registry],
    }),
    disconnects: new Counter({
      name: names.disconnects,
      help: 'SSE connections closed, for any reason.',
      registers: [registry],
    }),
    eventsSent: new Counter({
      name: names.eventsSent,
      help: 'Events written to SSE sockets (one per client per event).',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: names.connectionsRefused,
      help: 'Stream connections turned away for now (told to retry), by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: names.eventsDropped,
      help: 'Events that did not reach a client, by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    // Observed once per client per event: prom-client's Histogram costs too much there (see tally-histogram.ts).
    deliveryLatency: new TallyHistogram({
      name: names.deliveryLatency,
      help: 'Time from the event timestamp to the socket write, in seconds.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: names.eventsPublished,
      help: 'Events appended to the stream by this instance, by action.',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    busReads: new Counter({
      name: names.busReads,
      help: 'Completed XREADGROUP calls of the stream reader.',
      registers: [registry],
    }),
    busLastRead: new Gauge({
      name: names.busLastRead,
      help: 'Unix time of the stream reader last completed read, in seconds.',
      registers: [registry],
    }),
    busErrors: new Counter({
      name: names.busErrors,
      help: 'Failed stream reads and acknowledgements.',
      registers: [registry],
    }),
  };
  // Every reason is present from the start, so rates and alerts see 0 rather than nothing.
  for (const reason of dropReasons) metrics.eventsDropped.inc({ reason }, 0);
  for (const reason of refusalReasons) metrics.connectionsRefused.inc({ reason }, 0);
  return metrics;
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
export type { DropReason };
