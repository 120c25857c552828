// A policy object overrides the environment field by field; a bad one is rejected with a reason.
import { describe, expect, it } from 'vitest';
import { defaultRemediationPolicy } from '#test-support/remediation-policy';
import { applyPolicySpec, parsePolicySpec, type EffectiveSettings } from './policy.ts';

const defaults: EffectiveSettings = {
  streamKey: 'trayb:events:realtime',
  groupPrefix: 'realtime-consumers',
  maxLen: 5000,
  podSelector: 'app=x',
  redisSecret: undefined,
  policy: defaultRemediationPolicy,
};

describe('StreamRemediationPolicy spec', () => {
  it('an empty spec leaves every environment default in place', () => {
    const parsed = parsePolicySpec({});
    expect(parsed.ok && applyPolicySpec(defaults, parsed.spec)).toEqual(defaults);
  });

  it('fields that are set override the environment', () => {
    const parsed = parsePolicySpec({
      streamKey: 'other:stream',
      podSelector: { matchLabels: { app: 'rt', tier: 'sse' } },
      thresholds: { pendingEntries: 100, oldestPendingAgeSeconds: 10 },
      action: 'rollout-restart',
      sustainSeconds: 0,
      dryRun: true,
      redis: { secretRef: { name: 'redis' } },
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const settings = applyPolicySpec(defaults, parsed.spec);
    expect(settings).toMatchObject({
      streamKey: 'other:stream',
      podSelector: 'app=rt,tier=sse',
      redisSecret: { name: 'redis', key: 'url' },
    });
    expect(settings.policy).toMatchObject({
      pendingEntries: 100,
      oldestPendingAgeMs: 10_000,
      consumerIdleMs: 30_000,
      action: 'rollout-restart',
      sustainMs: 0,
      dryRun: true,
      podCooldownMs: 300_000,
    });
  });

  it.each([
    [{ action: 'reboot' }, '/action'],
    [{ thresholds: { pendingEntries: 0 } }, '/thresholds/pendingEntries'],
    [{ budgetPerHour: -1 }, '/budgetPerHour'],
    [{ podSelector: { matchLabels: {} } }, '/podSelector'],
  ])('rejects %j, naming %s', (spec, where) => {
    const parsed = parsePolicySpec(spec);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toContain(where);
  });
});
