// The controller's vocabulary: what it observes about the stream and the pods, the policy
// it follows, what it remembers between polls, and the actions it decides on. Plain data,
// so decide() stays a pure function and tests can write observations as tables.
import type { RemediationResult, SkippedRemediationReason as SkipReason } from '../metrics/names.ts';

export const REMEDIATION_ACTIONS = ['evict', 'delete', 'rollout-restart'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** Why a group counts as stuck (label `reason` of controller_remediations_total). */
export const STUCK_REASONS = ['pending_entries', 'oldest_pending_age', 'lag_growing_idle_consumer'] as const;
export type StuckReason = (typeof STUCK_REASONS)[number];

/**
 * Why a remediation the controller wanted was not carried out, and how an attempt ended:
 * label values of its metrics, which the alert rules match, so they are named in names.ts.
 */
export { skippedRemediationReasons as SKIP_REASONS } from '../metrics/names.ts';
export type { RemediationResult, SkipReason };

export interface ConsumerObservation {
  readonly name: string;
  readonly pending: number;
  readonly idleMs: number;
}

export interface GroupObservation {
  /** Full group name, `<prefix>:<pod>`. */
  readonly group: string;
  /** The pod whose instance reads through this group. */
  readonly pod: string;
  readonly pending: number;
  /** Time since the oldest pending entry was delivered; undefined when nothing is pending. */
  readonly oldestPendingAgeMs: number | undefined;
  /** Entries not yet delivered to the group; undefined when Redis cannot tell (after XDEL/XSETID). */
  readonly lag: number | undefined;
  readonly entriesRead: number | undefined;
  /** Idle time of the pod's consumer (or the freshest consumer); undefined when none has read yet. */
  readonly consumerIdleMs: number | undefined;
  readonly consumers: readonly ConsumerObservation[];
}

export interface PodView {
  readonly name: string;
  readonly ready: boolean;
  /** Has a deletionTimestamp: already on its way out. */
  readonly terminating: boolean;
}

export type Observations =
  | { readonly redis: 'unreachable'; readonly error: string; readonly pods: readonly PodView[] | undefined }
  | {
      readonly redis: 'ok';
      readonly stream: { readonly key: string; readonly length: number; readonly maxLen: number };
      readonly groups: readonly GroupObservation[];
      /** Pods matching the selector; undefined when no cluster is reachable (local dev, API errors). */
      readonly pods: readonly PodView[] | undefined;
    };

/** Everything decide() needs to know about how to behave; durations in milliseconds. */
export interface RemediationPolicy {
  readonly pendingEntries: number;
  readonly oldestPendingAgeMs: number;
  readonly consumerIdleMs: number;
  readonly sustainMs: number;
  readonly action: RemediationAction;
  readonly dryRun: boolean;
  /** Minimum time between two remediations of the same pod. */
  readonly podCooldownMs: number;
  /** Minimum time between any two remediations on the stream. */
  readonly streamCooldownMs: number;
  readonly budgetPerHour: number;
  readonly minReadyPods: number;
  readonly staleGroupGraceMs: number;
  /** Wait after the API refused an eviction (429) or failed. */
  readonly backoffMs: number;
  /** A remediation counts as in flight until its pod is gone, or this long at most. */
  readonly inFlightTimeoutMs: number;
}

export interface Remediation {
  readonly pod: string;
  readonly group: string;
  readonly action: RemediationAction;
  readonly reason: StuckReason;
  readonly at: number;
  readonly dryRun: boolean;
}

/** What the controller carries from one poll to the next. Immutable; decide() returns the next one. */
export interface History {
  /** Per group: since when a stuck condition has held without a break, and which. */
  readonly stuckSince: Readonly<Record<string, { readonly since: number; readonly reason: StuckReason }>>;
  /** Per group: the lag when its consumer first went idle beyond the limit. */
  readonly idleLagBaseline: Readonly<Record<string, number>>;
  /** Per group: when its pod was first seen missing. */
  readonly podMissingSince: Readonly<Record<string, number>>;
  /** Per group: the last skip (or dry-run collection) announced, so each is announced once per episode, not every poll. */
  readonly announced: Readonly<Record<string, SkipReason | 'collect'>>;
  /** Remediations carried out (or, in dry-run, that would have been), newest last, within the hour. */
  readonly remediations: readonly Remediation[];
  readonly inFlight: Remediation | undefined;
  readonly backoffUntil: number;
}

export const emptyHistory: History = {
  stuckSince: {},
  idleLagBaseline: {},
  podMissingSince: {},
  announced: {},
  remediations: [],
  inFlight: undefined,
  backoffUntil: 0,
};

export type Action =
  | {
      readonly kind: 'remediate';
      readonly action: RemediationAction;
      readonly pod: string;
      readonly group: string;
      readonly reason: StuckReason;
      readonly detail: string;
      readonly dryRun: boolean;
    }
  | {
      readonly kind: 'skip';
      readonly pod: string;
      readonly group: string;
      readonly reason: SkipReason;
      readonly stuckReason: StuckReason;
      readonly detail: string;
    }
  | { readonly kind: 'collect'; readonly group: string; readonly pod: string; readonly idleMs: number; readonly dryRun: boolean };

export interface Decision {
  readonly actions: readonly Action[];
  readonly history: History;
}

/** How carrying out a remediation ended (label `result` of controller_remediations_total). */
