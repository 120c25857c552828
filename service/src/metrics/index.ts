// Prometheus for both processes: the listener that serves a registry on its own port
// (server.ts: the service, the cluster primary and the controller all serve theirs through
// it), and the service's own registry and the `metrics:sse` Redis hash the runbook reads.
// The names are the contract's (contract/metric-names.ts); the controller's registry is
// controller/metrics.ts.
export { createServiceMetrics, type ServiceMetrics } from './registry.ts';
export { SseHashCounters } from './sse-hash.ts';
export { startMetricsServer } from './server.ts';
