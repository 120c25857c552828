// The remediation policy the controller follows when nothing overrides it: the runbook's
// numbers, spelled out so a table-driven test reads them at a glance. config/controller.test.ts
// proves an empty environment gives exactly this; tests change the fields they are about.
import type { RemediationPolicy } from '../../src/config/controller.ts';

const S = 1000;
const MIN = 60 * S;

export const defaultRemediationPolicy: RemediationPolicy = {
  pendingEntries: 500,
  oldestPendingAgeMs: 30 * S,
  consumerIdleMs: 30 * S,
  sustainMs: 15 * S,
  action: 'evict',
  dryRun: false,
  podCooldownMs: 5 * MIN,
  streamCooldownMs: 5 * MIN,
  budgetPerHour: 3,
  minReadyPods: 1,
  staleGroupGraceMs: 10 * MIN,
  backoffMs: 30 * S,
  inFlightTimeoutMs: 2 * MIN,
};
