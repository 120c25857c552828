// The "Instance internals" row: the Node.js process and the stream reader inside each
// service instance. This is where a stuck group's cause usually shows.
import { serviceMetrics as s } from '#contract';
import { instanceSelector as sel, query, select, timeseries } from './common.ts';

export const eventLoopLag = () =>
  timeseries(
    'Node event-loop lag',
    'How late timers fire on each instance (p99 and mean). Tens of milliseconds is normal; seconds means the ' +
      'process is CPU-bound or blocked, so it cannot read the stream or write to sockets in time. Check CPU below ' +
      'and the instance logs; a restart only helps if the cause was transient.',
    's',
  )
    .withTarget(query(`max by (instance) (${select(s.eventLoopLagP99, sel)})`, 'p99 {{instance}}'))
    .withTarget(query(`max by (instance) (${select(s.eventLoopLag, sel)})`, 'mean {{instance}}'));

export const processResources = () =>
  timeseries(
    'CPU per instance',
    "CPU seconds used per second by each process. Close to the pod's CPU limit, the instance is throttled and " +
      'event-loop lag climbs: scale out rather than raising queue limits.',
    'percentunit',
  ).withTarget(
    query(`sum by (instance) (rate(${select(s.processCpuSeconds, sel)}[$__rate_interval]))`, '{{instance}}'),
  );

export const memory = () =>
  timeseries(
    'Resident memory per instance',
    'Resident memory of each process. Steady growth with a stable client count suggests client queues or ' +
      'connections are leaking; compare with the connections panel before restarting.',
    'bytes',
  ).withTarget(query(`max by (instance) (${select(s.processResidentMemory, sel)})`, '{{instance}}'));

export const busReads = () =>
  timeseries(
    'Stream reads and errors',
    'Reads of the Redis Stream per second and read errors per second, per instance. Errors mean Redis is ' +
      'unreachable or refusing (check the Redis pod and REDIS_URL); no reads at all with no errors means the read ' +
      'loop is stuck, which the controller should remediate.',
    'ops',
  )
    .withTarget(query(`sum by (instance) (rate(${select(s.busReads, sel)}[$__rate_interval]))`, 'reads {{instance}}'))
    .withTarget(
      query(`sum by (instance) (rate(${select(s.busErrors, sel)}[$__rate_interval]))`, 'errors {{instance}}'),
    );

export const sinceLastRead = () =>
  timeseries(
    'Seconds since last stream read',
    'Time since each instance last completed a read of the stream. A blocking read returns at least every read ' +
      'block (5 s by default), so a line climbing past that is an instance whose reader is stuck even if its pod ' +
      'looks healthy.',
    's',
  ).withTarget(query(`time() - max by (instance) (${select(s.busLastRead, sel)})`, '{{instance}}'));
