// The controller's vocabulary: what it observes about the stream and the pods, what it
// remembers between polls, and the actions it decides on. Plain data, so decide() stays a
// pure function and tests can write observations as tables. The policy decide() follows is
// declared with the configuration that fills it (config/controller.ts); the words shared
// with its metrics (actions, stuck reasons, skip reasons, results) are label values the
// dashboards and alert rules match, so the contract names them.
import type { RemediationAction, SkippedRemediationReason, StuckReason } from '../contract/index.ts';

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
  /** Tells a pod from its replacement of the same name (a StatefulSet pod, a re-created one). */
  readonly uid: string;
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

export interface Remediation {
  readonly pod: string;
  /** The UID of the pod acted on; undefined when the pod list was unavailable (dry-run only). */
  readonly podUid: string | undefined;
  readonly group: string;
  readonly action: RemediationAction;
  readonly reason: StuckReason;
  readonly at: number;
  readonly dryRun: boolean;
}

export interface StuckEpisode {
  readonly since: number;
  readonly reason: StuckReason;
  readonly pod: string;
}

/** What the controller carries from one poll to the next. Immutable; decide() returns the next one. */
export interface History {
  /**
   * Per group: since when a stuck condition has held without a break, which, and the pod the
   * group was read back to when observed (so an outage can name it without re-parsing).
   */
  readonly stuckSince: Readonly<Record<string, StuckEpisode>>;
  /** Per group: the lag when its consumer first went idle beyond the limit. */
  readonly idleLagBaseline: Readonly<Record<string, number>>;
  /** Per group: when its pod was first seen missing. */
  readonly podMissingSince: Readonly<Record<string, number>>;
  /** Per group: the last skip (or dry-run collection) announced, so each is announced once per episode, not every poll. */
  readonly announced: Readonly<Record<string, SkippedRemediationReason | 'collect'>>;
  /**
   * Remediations carried out (or, in dry-run, that would have been), newest last, within the
   * hour. Dry-run ones only space other dry-run ones: turning dry-run off starts with the full
   * budget, as nothing was done yet.
   */
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
      /** The UID of the pod judged stuck; evictions and deletions are conditional on it. */
      readonly podUid: string | undefined;
      readonly group: string;
      readonly reason: StuckReason;
      readonly detail: string;
      readonly dryRun: boolean;
    }
  | {
      readonly kind: 'skip';
      readonly pod: string;
      readonly group: string;
      readonly reason: SkippedRemediationReason;
      readonly stuckReason: StuckReason;
      readonly detail: string;
    }
  | {
      readonly kind: 'collect';
      readonly group: string;
      readonly pod: string;
      readonly idleMs: number;
      readonly dryRun: boolean;
    };

export interface Decision {
  readonly actions: readonly Action[];
  readonly history: History;
}
