// The controller's environment: defaults from the shared thresholds, overrides, and clear errors.
import { describe, expect, it } from 'vitest';
import { defaultRemediationPolicy } from '#test-support/remediation-policy';
import { thresholds } from '../contract/index.ts';
import { ConfigError } from './env.ts';
import { loadControllerConfig } from './controller.ts';

describe('controller configuration', () => {
  it('defaults follow the runbook thresholds and the issue', () => {
    const config = loadControllerConfig({ POD_NAME: 'ctl-0' });
    expect(config).toMatchObject({
      metricsPort: 9465,
      pollIntervalMs: 5000,
      identity: 'ctl-0',
      namespace: 'default',
      policyName: undefined,
    });
    expect(config.stream).toEqual({ key: 'trayb:events:realtime', groupPrefix: 'realtime-consumers', maxLen: 5000 });
    expect(config.policy).toMatchObject({
      pendingEntries: thresholds.pendingEntries,
      oldestPendingAgeMs: thresholds.oldestPendingAgeSeconds * 1000,
      sustainMs: thresholds.stuckSustainSeconds * 1000,
      consumerIdleMs: thresholds.idleReadBlocks * 5000,
    });
    // The fixture the controller's tests start from is this default, field for field.
    expect(config.policy).toEqual(defaultRemediationPolicy);
  });

  it('the consumer idle limit follows the read block unless set', () => {
    expect(loadControllerConfig({ REALTIME_STREAM_READ_BLOCK_MS: '2000' }).policy.consumerIdleMs).toBe(
      thresholds.idleReadBlocks * 2000,
    );
    expect(loadControllerConfig({ CONTROLLER_CONSUMER_IDLE_SECONDS: '90' }).policy.consumerIdleMs).toBe(90_000);
  });

  it('reads every knob', () => {
    const config = loadControllerConfig({
      CONTROLLER_ACTION: 'rollout-restart',
      CONTROLLER_DRY_RUN: 'true',
      CONTROLLER_MIN_READY_PODS: '2',
      CONTROLLER_STALE_GROUP_GRACE_SECONDS: '60',
      CONTROLLER_POLICY_NAME: 'realtime',
      CONTROLLER_LEASE_DURATION_SECONDS: '20',
      POD_NAMESPACE: 'rt',
    });
    expect(config.policy).toMatchObject({
      action: 'rollout-restart',
      dryRun: true,
      minReadyPods: 2,
      staleGroupGraceMs: 60_000,
    });
    expect(config).toMatchObject({
      policyName: 'realtime',
      namespace: 'rt',
      lease: {
        name: 'trayb-realtime-controller',
        leaseDurationMs: 20_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2000,
      },
    });
  });

  it('refuses a renew deadline that is not shorter than the lease duration', () => {
    expect(() =>
      loadControllerConfig({ CONTROLLER_LEASE_DURATION_SECONDS: '10', CONTROLLER_LEASE_RENEW_DEADLINE_SECONDS: '10' }),
    ).toThrow(/renew deadline .* must be shorter than the lease duration/);
  });

  it('reports every bad value at once', () => {
    expect(() => loadControllerConfig({ CONTROLLER_ACTION: 'reboot', CONTROLLER_BUDGET_PER_HOUR: 'many' })).toThrow(
      ConfigError,
    );
    try {
      loadControllerConfig({ CONTROLLER_ACTION: 'reboot', CONTROLLER_BUDGET_PER_HOUR: 'many' });
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });
});
