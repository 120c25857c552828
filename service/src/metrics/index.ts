// Metrics: the Prometheus registry of a service instance, its separate port, and the
// `metrics:sse` Redis hash the runbook reads.
export { createServiceMetrics, type ServiceMetrics } from './registry.ts';
export { SseHashCounters } from './sse-hash.ts';
export { startMetricsServer } from './server.ts';
export { serviceMetrics, controllerMetrics, dropReasons, SSE_METRICS_HASH, type DropReason } from './names.ts';
