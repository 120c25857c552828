// What the drills share beyond the world: the Prometheus columns the timeline samples, the
// ledger assertion every drill ends with, and small waits on the cluster and on alerts.
import { spawnSync } from 'node:child_process';
import { ApiException, EventsV1Api, type EventsV1Event } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { controllerMetrics, groupName, serviceMetrics } from '#contract';
import { waitUntil } from '#test-support/prometheus';
import { runbookCommands } from '#test-support/runbook-commands';
import type { SampledQuery } from './timeline.ts';
import type { DrillWorld } from './world.ts';

/** What on-call would look at, per drill namespace: the series the stuck and lag alerts read, alert states, remediations, drops. */
export function sampledQueries(namespace: string): SampledQuery[] {
  const ns = `namespace="${namespace}"`;
  const c = controllerMetrics;
  return [
    { expr: `max by (group) (${c.groupPending}{${ns}})`, column: (l) => `pending ${l['group']}` },
    { expr: `max by (group) (${c.groupOldestPendingAge}{${ns}})`, column: (l) => `oldest age s ${l['group']}` },
    { expr: `max by (group) (${c.groupLag}{${ns}})`, column: (l) => `lag ${l['group']}` },
    {
      expr: `max by (alertname, cause, group, alertstate) (ALERTS{${ns}})`,
      column: (l) =>
        `alert ${l['alertname']}${l['cause'] ? `/${l['cause']}` : ''}${l['group'] ? ` ${l['group']}` : ''} ${l['alertstate']}`,
    },
    { expr: `sum by (result) (${c.remediations}{${ns}})`, column: (l) => `remediations ${l['result']}` },
    {
      expr: `sum(rate(${serviceMetrics.eventsDropped}{${ns}}[1m])) * 60`,
      column: () => 'dropped per min',
    },
  ];
}

/** Alerts (pending or firing) in the drill's namespace matching `labels`. */
export async function alertsMatching(
  world: DrillWorld,
  labels: Record<string, string>,
): Promise<{ labels: Record<string, string>; state: string }[]> {
  return (await world.alerts()).filter((a) => Object.entries(labels).every(([k, v]) => a.labels[k] === v));
}

/** Waits until an alert with `labels` is in `state`, marks the timeline, returns seconds since the fault. */
export async function waitForAlertState(
  world: DrillWorld,
  labels: Record<string, string>,
  state: 'pending' | 'firing',
  mark: string,
  timeoutMs: number,
): Promise<void> {
  await waitUntil(`${JSON.stringify(labels)} ${state}`, timeoutMs, async () =>
    (await alertsMatching(world, labels)).some(
      (a) => a.state === state || (state === 'pending' && a.state === 'firing'),
    )
      ? true
      : undefined,
  );
  world.timeline.markOnce(mark, JSON.stringify(labels));
}

export async function podExists(world: DrillWorld, name: string): Promise<boolean> {
  try {
    await world.core.readNamespacedPod({ name, namespace: world.namespace });
    return true;
  } catch (error) {
    if (error instanceof ApiException && (error as ApiException<unknown>).code === 404) return false;
    throw error;
  }
}

export async function clusterEvents(world: DrillWorld): Promise<EventsV1Event[]> {
  return (await world.admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: world.namespace })).items;
}

/** Stops traffic and asserts every client holds every accepted event exactly once, in order. */
export async function expectLedgerClean(world: DrillWorld): Promise<void> {
  await world.producer.stop();
  const { accepted } = world.producer.ledger;
  const last = accepted.at(-1);
  // Clients resume after the retry hint: give them a few to catch up on the last events.
  await waitUntil('every client to hold the last accepted event', 60_000, async () =>
    last === undefined || world.clients.every((c) => c.ids.includes(last)) ? true : undefined,
  ).catch(() => undefined);
  const reports = world.clients.map((c) => c.report(world.producer.ledger));
  world.timeline.mark(
    'ledger checked',
    `${accepted.length} accepted, ${world.producer.ledger.unavailable.length} answered 503, ` +
      `${world.producer.ledger.unknown} unknown; connections per client ${reports.map((r) => r.connections).join('/')}`,
  );
  expect(accepted.length).toBeGreaterThan(0);
  for (const report of reports) {
    expect({
      client: report.name,
      missing: report.missing.length,
      duplicates: report.duplicates.length,
      outOfOrder: report.outOfOrder,
      resyncs: report.resyncs,
    }).toEqual({ client: report.name, missing: 0, duplicates: 0, outOfOrder: 0, resyncs: 0 });
    // Publishes whose answer was lost may have reached the stream; nothing else may appear.
    expect(report.unexpected.length).toBeLessThanOrEqual(world.producer.ledger.unknown);
  }
}

/**
 * The stuck-consumer fault: SIGSTOPs the pod's process while its XREADGROUP is blocked in
 * Redis, so the next events are delivered to a reader that will never acknowledge them (the
 * group's entries stay pending and age). Caught between reads instead (nothing pending after
 * a few publishes), it is resumed and tried again. Marks the fault on the timeline.
 */
export async function freezeMidRead(world: DrillWorld, pod: string): Promise<number> {
  const process = world.runner.process(pod);
  if (process === undefined) throw new Error(`${pod} has no process`);
  const redis = new Redis(world.redis.url, { protocol: 2 });
  const group = groupName('realtime-consumers', pod);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const at = Date.now();
      process.signal('SIGSTOP');
      const pending = await waitUntil('a batch delivered to the frozen reader', 4_000, async () => {
        const [count] = (await redis.xpending('trayb:events:realtime', group)) as [number];
        return count > 0 ? count : undefined;
      }).catch(() => 0);
      if (pending > 0) {
        world.timeline.fault('SIGSTOP', `${pod} frozen with ${pending} entries delivered, never acknowledged`, at);
        return pending;
      }
      process.signal('SIGCONT');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
    throw new Error(`${pod} never froze with a batch in hand`);
  } finally {
    redis.disconnect();
  }
}

/** Commands that change state: a drill runs a runbook's diagnostics, never its remedies. */
const MUTATING = /^(XGROUP|DEL|XTRIM|XACK|XCLAIM|XAUTOCLAIM|FLUSH)/i;

/**
 * Runs every read-only `redis-cli ...` command of a runbook (docs/runbooks/<name>.md) as
 * written (the tail of its `kubectl exec`), against the drill's Redis, with `<placeholders>`
 * filled in. Returns each command with its output, so a drill can check the output shows the
 * incident.
 */
export function runbookRedisDiagnostics(
  world: DrillWorld,
  runbook: string,
  fill: Record<string, string>,
): { command: string; code: number; output: string }[] {
  const commands = runbookCommands('redis-cli', [`${runbook}.md`])
    .map(({ command }) =>
      command.replace(/^redis-cli /, '').replace(/<(\w+)>/g, (whole, name: string) => fill[name] ?? whole),
    )
    .filter((command) => !MUTATING.test(command));
  return [...new Set(commands)].map((command) => {
    const run = spawnSync('redis-cli', ['-p', String(world.redis.port), ...command.split(/\s+/)], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    return { command: `redis-cli ${command}`, code: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
  });
}
