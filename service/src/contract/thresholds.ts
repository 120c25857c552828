// The numbers that decide "healthy" for the realtime path. The controller acts on them,
// the dashboards draw them and the alert rules fire on them, all from this one module,
// so the three can never disagree. Values follow the operations runbook.

export const thresholds = {
  /** A consumer group with more pending (delivered, unacknowledged) entries is stuck. */
  pendingEntries: 500,
  /** A consumer group whose oldest pending entry is older than this is stuck. */
  oldestPendingAgeSeconds: 30,
  /** A consumer idle this many read blocks while its group's lag grows is stuck. */
  idleReadBlocks: 6,
  /** How long a stuck condition must hold before the controller acts. */
  stuckSustainSeconds: 15,
  /** Queue drops above this rate (per minute, all instances) page the on-call. */
  droppedEventsPerMinute: 100,
  /** The runbook's "pending should stay below" level, shown as a warning line. */
  pendingWarningEntries: 100,
  /** Stream length at this share of MAXLEN counts as "at the cap". */
  nearMaxLenRatio: 0.95,
  /** A stream at its cap should still hold this much history for Last-Event-ID replay. */
  minReplayWindowSeconds: 300,
  /** A group this many entries behind the stream's tip is falling behind (trimming eats unread entries). */
  laggingEntries: 500,
  /** p99 delivery latency (event timestamp → socket write) that is worth a look. */
  deliveryLatencyP99Seconds: 1,
} as const;

export type Thresholds = typeof thresholds;
