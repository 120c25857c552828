// decide() as the runbook's rules, one table row per rule.
import { describe, expect, it } from 'vitest';
import { decide, recordOutcome, stuckCondition } from './decide.ts';
import { defaultRemediationPolicy as policy } from '#test-support/remediation-policy';
import type { RemediationPolicy } from '../config/controller.ts';
import {
  emptyHistory,
  type Action,
  type GroupObservation,
  type History,
  type Observations,
  type PodView,
} from './model.ts';

const S = 1000;
const MIN = 60 * S;

function group(pod: string, over: Partial<GroupObservation> = {}): GroupObservation {
  return {
    group: `realtime-consumers:${pod}`,
    pod,
    pending: 0,
    oldestPendingAgeMs: undefined,
    lag: 0,
    entriesRead: 10,
    consumerIdleMs: 1 * S,
    consumers: [],
    ...over,
  };
}
const stuck = (pod: string) => group(pod, { pending: 900, oldestPendingAgeMs: 45 * S });
const ready = (...names: string[]): PodView[] =>
  names.map((name) => ({ name, uid: `uid-${name}`, ready: true, terminating: false }));

type Pods = readonly PodView[] | 'unknown';
function seen(groups: GroupObservation[], pods: Pods = ready('a', 'b', 'c')): Observations {
  return {
    redis: 'ok',
    stream: { key: 's', length: 100, maxLen: 5000 },
    groups,
    pods: pods === 'unknown' ? undefined : pods,
  };
}

/** Runs decide() over a sequence of polls, returning each poll's actions and the final history. */
function run(polls: [number, Observations][], p: RemediationPolicy = policy, start: History = emptyHistory) {
  let history = start;
  const actions: { at: number; action: Action }[] = [];
  for (const [at, obs] of polls) {
    const d = decide(obs, history, p, at);
    history = d.history;
    for (const action of d.actions) actions.push({ at, action });
  }
  return { actions, history };
}
const everyPoll = (from: number, to: number, obs: Observations, step = 5 * S): [number, Observations][] => {
  const out: [number, Observations][] = [];
  for (let t = from; t <= to; t += step) out.push([t, obs]);
  return out;
};
const kinds = (actions: { action: Action }[]) =>
  actions.map(({ action }) => (action.kind === 'skip' ? `skip:${action.reason}` : `${action.kind}:${action.pod}`));

describe('a group is stuck when', () => {
  it.each([
    ['more than 500 entries are pending', group('a', { pending: 501 }), 'pending_entries'],
    ['exactly 500 entries are pending (not more)', group('a', { pending: 500 }), undefined],
    [
      'its oldest pending entry was delivered over 30 s ago',
      group('a', { pending: 3, oldestPendingAgeMs: 30_001 }),
      'oldest_pending_age',
    ],
    [
      'its oldest pending entry is exactly 30 s old (not older)',
      group('a', { pending: 3, oldestPendingAgeMs: 30_000 }),
      undefined,
    ],
    ['a healthy consumer is reading', group('a', { pending: 20, oldestPendingAgeMs: 40 }), undefined],
  ])('%s', (_name, g, reason) => {
    expect(stuckCondition(g, undefined, policy)?.reason).toBe(reason);
  });

  it.each([
    ['lag grows while the consumer is idle beyond the limit', [0, 5, 40], 31 * S, 'lag_growing_idle_consumer'],
    ['lag grows but the consumer read recently', [0, 5, 40], 4 * S, undefined],
    ['the consumer is idle but the lag does not grow (quiet stream)', [7, 7, 7], 60 * S, undefined],
  ])('%s', (_name, lags, idle, reason) => {
    const polls = lags.map((lag, i): [number, Observations] => [
      i * 5 * S,
      seen([group('a', { lag, consumerIdleMs: idle + i * 5 * S })]),
    ]);
    const { history } = run(polls, { ...policy, sustainMs: 0 });
    expect(history.stuckSince['realtime-consumers:a']?.reason).toBe(reason);
  });
});

describe('the stuck condition must hold for the sustain period', () => {
  it.each([
    ['held 10 s: nothing yet', 10 * S, []],
    ['held 15 s: the pod is evicted', 15 * S, ['remediate:a']],
  ])('%s', (_name, heldFor, expected) => {
    expect(kinds(run(everyPoll(0, heldFor, seen([stuck('a')]))).actions)).toEqual(expected);
  });

  it('a break in the condition restarts the sustain timer', () => {
    const polls: [number, Observations][] = [
      ...everyPoll(0, 10 * S, seen([stuck('a')])),
      [11 * S, seen([group('a')])],
      ...everyPoll(15 * S, 25 * S, seen([stuck('a')])),
    ];
    expect(run(polls).actions).toEqual([]);
    expect(kinds(run([...polls, [30 * S, seen([stuck('a')])]]).actions)).toEqual(['remediate:a']);
  });

  it('remediates with the configured action and explains why', () => {
    const { actions } = run(everyPoll(0, 15 * S, seen([stuck('a')])), { ...policy, action: 'rollout-restart' });
    expect(actions[0]?.action).toMatchObject({
      kind: 'remediate',
      action: 'rollout-restart',
      pod: 'a',
      reason: 'pending_entries',
      dryRun: false,
    });
    expect(actions[0]?.action.kind === 'remediate' && actions[0].action.detail).toContain('900 entries pending');
  });
});

describe('safety rules hold a remediation back', () => {
  const at = 100 * MIN;
  const remediation = (pod: string, ago: number) => ({
    pod,
    group: `realtime-consumers:${pod}`,
    action: 'evict' as const,
    reason: 'pending_entries' as const,
    at: at - ago,
    dryRun: false,
    podUid: `uid-${pod}`,
  });
  const sustained = {
    ...emptyHistory,
    stuckSince: { 'realtime-consumers:a': { since: at - MIN, reason: 'pending_entries' as const, pod: 'a' } },
  };

  it.each<[string, Partial<History>, Pods, Partial<RemediationPolicy>, string]>([
    ['nothing holds it back', {}, ready('a', 'b'), {}, 'remediate:a'],
    ['another remediation is in flight', { inFlight: remediation('b', 10 * S) }, ready('a', 'b'), {}, 'skip:in_flight'],
    [
      'the pod was remediated within the cooldown',
      { remediations: [remediation('a', 4 * MIN)] },
      ready('a', 'b'),
      {},
      'skip:pod_cooldown',
    ],
    [
      'another pod of the stream was remediated within the cooldown',
      { remediations: [remediation('b', 4 * MIN)] },
      ready('a', 'b'),
      {},
      'skip:stream_cooldown',
    ],
    ['the cooldown has passed', { remediations: [remediation('a', 6 * MIN)] }, ready('a', 'b'), {}, 'remediate:a'],
    [
      'a longer pod cooldown holds after the stream cooldown',
      { remediations: [remediation('a', 6 * MIN)] },
      ready('a', 'b'),
      { podCooldownMs: 15 * MIN },
      'skip:pod_cooldown',
    ],
    [
      'a longer stream cooldown holds for every pod',
      { remediations: [remediation('b', 6 * MIN)] },
      ready('a', 'b'),
      { streamCooldownMs: 15 * MIN },
      'skip:stream_cooldown',
    ],
    [
      'the hourly budget is spent',
      { remediations: [remediation('b', 50 * MIN), remediation('c', 30 * MIN), remediation('b', 10 * MIN)] },
      ready('a', 'b'),
      {},
      'skip:budget_exhausted',
    ],
    [
      'the budget spent over an hour ago is back',
      { remediations: [remediation('b', 70 * MIN), remediation('c', 65 * MIN), remediation('b', 61 * MIN)] },
      ready('a', 'b'),
      {},
      'remediate:a',
    ],
    [
      'fewer than the minimum ready pods would remain',
      {},
      [...ready('a'), { name: 'b', uid: 'uid-b', ready: false, terminating: false }],
      {},
      'skip:min_ready_pods',
    ],
    [
      'a terminating pod does not count as ready',
      {},
      [...ready('a'), { name: 'b', uid: 'uid-b', ready: true, terminating: true }],
      {},
      'skip:min_ready_pods',
    ],
    ['a higher minimum is not met', {}, ready('a', 'b'), { minReadyPods: 2 }, 'skip:min_ready_pods'],
    [
      'the API refused the last eviction moments ago',
      { backoffUntil: at + 5 * S },
      ready('a', 'b'),
      {},
      'skip:backing_off',
    ],
    ['the pod list is unavailable', {}, 'unknown', {}, 'skip:pods_unknown'],
    ['the pod list is unavailable but this is a dry run', {}, 'unknown', { dryRun: true }, 'remediate:a'],
  ])('%s → %s', (_name, history, pods, over, expected) => {
    const d = decide(seen([stuck('a')], pods), { ...sustained, ...history }, { ...policy, ...over }, at);
    expect(kinds(d.actions.map((action) => ({ action })))).toEqual([expected]);
  });

  it('never acts while Redis is unreachable, and restarts the sustain timer once it is back', () => {
    const down: Observations = { redis: 'unreachable', error: 'ECONNREFUSED', pods: ready('a', 'b') };
    const { actions, history } = run(
      [
        [at, down],
        [at + 5 * S, down],
      ],
      policy,
      sustained,
    );
    expect(kinds(actions)).toEqual(['skip:redis_unreachable']); // said once, not every poll
    expect(history.stuckSince).toEqual({});
    expect(run([[at + 10 * S, seen([stuck('a')])]], policy, history).actions).toEqual([]);
  });

  it('acts on one pod at a time: the longest-stuck first, the other waits', () => {
    const history = {
      ...sustained,
      stuckSince: {
        ...sustained.stuckSince,
        'realtime-consumers:b': { since: at - 2 * MIN, reason: 'pending_entries' as const, pod: 'b' },
      },
    };
    const d = decide(seen([stuck('a'), stuck('b')]), history, policy, at);
    expect(kinds(d.actions.map((action) => ({ action })))).toEqual(['remediate:b', 'skip:in_flight']);
    expect(d.history.inFlight?.pod).toBe('b');
  });

  it('reports a skip once per episode, not on every poll', () => {
    const history = { ...sustained, remediations: [remediation('b', MIN)] };
    const { actions } = run(everyPoll(at, at + MIN, seen([stuck('a')])), policy, history);
    expect(kinds(actions)).toEqual(['skip:stream_cooldown']);
  });

  it('a remediation stays in flight until its pod is gone', () => {
    const first = decide(
      seen([stuck('a')], ready('a', 'b', 'c')),
      sustained,
      { ...policy, podCooldownMs: 0, streamCooldownMs: 0 },
      at,
    );
    expect(first.history.inFlight?.pod).toBe('a');
    const stillThere = decide(
      seen(
        [stuck('a'), stuck('b')],
        [{ name: 'a', uid: 'uid-a', ready: false, terminating: true }, ...ready('b', 'c')],
      ),
      first.history,
      { ...policy, podCooldownMs: 0, streamCooldownMs: 0, sustainMs: 0 },
      at + 5 * S,
    );
    expect(kinds(stillThere.actions.map((action) => ({ action })))).toEqual(['skip:in_flight']);
    const gone = decide(
      seen([stuck('b')], ready('b', 'c', 'a2')),
      stillThere.history,
      { ...policy, podCooldownMs: 0, streamCooldownMs: 0, sustainMs: 0 },
      at + 10 * S,
    );
    expect(kinds(gone.actions.map((action) => ({ action })))).toEqual(['remediate:b']);
  });

  it('a replacement pod of the same name (new UID) is not the one in flight', () => {
    const quick = { ...policy, podCooldownMs: 0, streamCooldownMs: 0, sustainMs: 0 };
    const first = decide(seen([stuck('a')], ready('a', 'b', 'c')), sustained, quick, at);
    expect(first.history.inFlight).toMatchObject({ pod: 'a', podUid: 'uid-a' });
    const sameUid = decide(seen([stuck('b')], ready('a', 'b', 'c')), first.history, quick, at + 5 * S);
    expect(kinds(sameUid.actions.map((action) => ({ action })))).toEqual(['skip:in_flight']);
    const replaced = [{ name: 'a', uid: 'uid-a-2', ready: true, terminating: false }, ...ready('b', 'c')];
    const next = decide(seen([stuck('b')], replaced), sameUid.history, quick, at + 10 * S);
    expect(next.history.inFlight).toMatchObject({ pod: 'b', podUid: 'uid-b' });
    expect(kinds(next.actions.map((action) => ({ action })))).toEqual(['remediate:b']);
  });

  it.each([
    ['pod cooldown', [remediation('a', MIN)]],
    ['stream cooldown', [remediation('b', MIN)]],
    ['hourly budget', [remediation('a', 50 * MIN), remediation('b', 40 * MIN), remediation('c', 30 * MIN)]],
  ])('dry-run remediations do not spend the real %s once dry run is off', (_name, earlier) => {
    const dryRuns = earlier.map((r) => ({ ...r, dryRun: true }));
    const real = decide(seen([stuck('a')]), { ...sustained, remediations: dryRuns }, policy, at);
    expect(kinds(real.actions.map((action) => ({ action })))).toEqual(['remediate:a']);
    expect(real.history.remediations).toHaveLength(dryRuns.length + 1); // the status still lists them
    const stillDry = decide(
      seen([stuck('a')]),
      { ...sustained, remediations: dryRuns },
      { ...policy, dryRun: true },
      at,
    );
    expect(stillDry.actions.map((a) => a.kind)).toEqual(['skip']);
  });

  it('a remediation whose pod never leaves stops counting as in flight after the timeout', () => {
    const first = decide(seen([stuck('a')]), sustained, policy, at);
    const later = decide(seen([]), first.history, policy, at + policy.inFlightTimeoutMs);
    expect(later.history.inFlight).toBeUndefined();
  });

  it('dry-run records what it would do and spaces it like the real thing', () => {
    const dry = { ...policy, dryRun: true };
    const { actions, history } = run(everyPoll(at, at + 4 * MIN, seen([stuck('a')])), dry, sustained);
    expect(actions.map(({ action }) => action)).toEqual([
      expect.objectContaining({ kind: 'remediate', pod: 'a', dryRun: true }),
      expect.objectContaining({ kind: 'skip', reason: 'pod_cooldown' }),
    ]);
    expect(history.inFlight).toBeUndefined();
    expect(history.remediations).toHaveLength(1);
  });

  it('a pod that is already terminating is not remediated again', () => {
    const d = decide(
      seen([stuck('a')], [{ name: 'a', uid: 'uid-a', ready: true, terminating: true }, ...ready('b')]),
      sustained,
      policy,
      at,
    );
    expect(d.actions).toEqual([]);
  });
});

describe('outcomes', () => {
  const at = 100 * MIN;
  const first = decide(
    seen([stuck('a')]),
    { ...emptyHistory, stuckSince: { 'realtime-consumers:a': { since: 0, reason: 'pending_entries', pod: 'a' } } },
    policy,
    at,
  );
  const action = first.actions[0] as Extract<Action, { kind: 'remediate' }>;

  it.each([
    ['refused (429)', 'backoff' as const],
    ['failed', 'failed' as const],
  ])('an eviction %s spends no budget and backs off', (_name, result) => {
    const after = recordOutcome(first.history, action, result, policy, at);
    expect(after.remediations).toEqual([]);
    expect(after.inFlight).toBeUndefined();
    expect(after.backoffUntil).toBe(at + policy.backoffMs);
    expect(kinds(decide(seen([stuck('a')]), after, policy, at + 5 * S).actions.map((a) => ({ action: a })))).toEqual([
      'skip:backing_off',
    ]);
    expect(kinds(decide(seen([stuck('a')]), after, policy, at + 31 * S).actions.map((a) => ({ action: a })))).toEqual([
      'remediate:a',
    ]);
  });

  it('a done eviction is kept for cooldown and budget', () => {
    expect(recordOutcome(first.history, action, 'done', policy, at)).toBe(first.history);
  });
});

describe('stale groups', () => {
  const gone = (over: Partial<GroupObservation> = {}) =>
    group('old-pod', { consumers: [{ name: 'old-pod', pending: 0, idleMs: 0 }], ...over });

  it.each<[string, GroupObservation, Pods, string[]]>([
    [
      'a group whose pod is gone and idle past the grace is collected',
      gone({ consumerIdleMs: 11 * MIN }),
      ready('a'),
      ['collect:old-pod'],
    ],
    ['a group whose pod is gone but read recently is kept', gone({ consumerIdleMs: 2 * MIN }), ready('a'), []],
    ['a group whose pod exists is kept however idle', group('a', { consumerIdleMs: 60 * MIN }), ready('a'), []],
    ['nothing is collected when the pod list is unknown', gone({ consumerIdleMs: 60 * MIN }), 'unknown', []],
    [
      'a stuck group of a vanished pod is collected, not remediated',
      { ...stuck('old-pod'), consumerIdleMs: 11 * MIN },
      ready('a', 'b'),
      ['collect:old-pod'],
    ],
  ])('%s', (_name, g, pods, expected) => {
    const { actions } = run(everyPoll(0, 20 * S, seen([g], pods)), { ...policy, sustainMs: 0 });
    expect([...new Set(kinds(actions))]).toEqual(expected);
  });

  it('a group that never had a consumer is collected once its pod has been gone for the grace period', () => {
    const g = group('never-read', { consumerIdleMs: undefined });
    expect(run(everyPoll(0, 9 * MIN, seen([g], ready('a')), MIN)).actions).toEqual([]);
    expect(kinds(run(everyPoll(0, 10 * MIN, seen([g], ready('a')), MIN)).actions)).toEqual(['collect:never-read']);
  });

  it('dry-run announces a stale group once and keeps it', () => {
    const { actions } = run(everyPoll(0, MIN, seen([gone({ consumerIdleMs: 11 * MIN })], ready('a'))), {
      ...policy,
      dryRun: true,
    });
    expect(actions.map(({ action }) => action)).toEqual([expect.objectContaining({ kind: 'collect', dryRun: true })]);
  });

  it('Redis being down collects nothing', () => {
    expect(decide({ redis: 'unreachable', error: 'down', pods: ready('a') }, emptyHistory, policy, 0).actions).toEqual(
      [],
    );
  });
});
