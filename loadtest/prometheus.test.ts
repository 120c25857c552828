// The load test reads the service's drop counters from its metrics port: the parser must
// read what the service really exposes, under the names the service really uses.
import { describe, expect, it } from 'vitest';
import { serviceMetrics } from '#contract';
import { createServiceMetrics } from '../service/src/metrics/index.ts';
import { SSE_METRIC_NAMES, parsePrometheus, snapshotDelta, sseSnapshot } from './prometheus.js';

describe('the metrics the load test reads', () => {
  it('are named as the service names them', () => {
    expect(SSE_METRIC_NAMES).toEqual({
      dropped: serviceMetrics.eventsDropped,
      sent: serviceMetrics.eventsSent,
      connections: serviceMetrics.connections,
      opened: serviceMetrics.connectionsOpened,
    });
  });

  it('are read from the service registry output: drops by reason, sent, open and opened connections', async () => {
    const metrics = createServiceMetrics();
    metrics.eventsDropped.inc({ reason: 'queue_full' }, 7);
    metrics.eventsDropped.inc({ reason: 'shutdown' }, 2);
    metrics.eventsSent.inc(40);
    metrics.connections.set(3);
    metrics.connectionsOpened.inc(5);
    const snapshot = sseSnapshot([await metrics.registry.metrics()]);
    expect(snapshot).toEqual({
      dropped: { queue_full: 7, slow_client_disconnected: 0, shutdown: 2, token_expired: 0 },
      droppedTotal: 9,
      droppedByInstance: { 'target 1': 9 },
      sent: 40,
      connections: 3,
      opened: 5,
      targets: 1,
    });
  });

  it('sums several pods, and a delta is after minus before per reason', () => {
    const pod = (dropped: number, sent: number, open: number) =>
      `# HELP sse_events_dropped_total x\n# TYPE sse_events_dropped_total counter\nsse_events_dropped_total{reason="queue_full"} ${dropped}\nsse_events_sent_total ${sent}\nsse_connections ${open}\nsse_connections_opened_total 10\n`;
    const endpoints = ['http://10.0.0.1:9464/metrics', 'http://10.0.0.2:9464/metrics'];
    const before = sseSnapshot([pod(1, 100, 2), pod(0, 50, 1)], endpoints);
    const after = sseSnapshot([pod(5, 300, 2), pod(3, 90, 1)], endpoints);
    expect(before.dropped.queue_full).toBe(1);
    expect(after.targets).toBe(2);
    expect(snapshotDelta(before, after)).toEqual({
      dropped: { queue_full: 7 },
      droppedTotal: 7,
      droppedByInstance: { [endpoints[0] ?? '']: 4, [endpoints[1] ?? '']: 3 },
      sent: 240,
      connections: 0,
      opened: 0,
      targets: 2,
    });
  });

  it('parses labels with escapes, timestamps and special values, and refuses garbage', () => {
    const samples = parsePrometheus('a_total{x="q\\"uo\\\\te",y="line\\nbreak"} 3 1700000000000\nb +Inf\nc{} NaN\n');
    expect(samples[0]).toEqual({ name: 'a_total', labels: { x: 'q"uo\\te', y: 'line\nbreak' }, value: 3 });
    expect(samples[1]?.value).toBe(Infinity);
    expect(samples[2]?.value).toBeNaN();
    expect(() => parsePrometheus('<html>not metrics</html>')).toThrow(/not a Prometheus sample line/);
  });
});
