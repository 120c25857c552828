// The one place that names metrics and the label values queries match on. The service and
// the controller register them under these names; the dashboards and alert rules query them
// by these names.

/** Exported by every service instance on METRICS_PORT (9464). */
export const serviceMetrics = {
  connections: 'sse_connections',
  connectionsOpened: 'sse_connections_opened_total',
  connectionsRefused: 'sse_connections_refused_total',
  disconnects: 'sse_disconnects_total',
  eventsSent: 'sse_events_sent_total',
  eventsDropped: 'sse_events_dropped_total',
  deliveryLatency: 'sse_event_delivery_latency_seconds',
  eventsPublished: 'realtime_events_published_total',
  busReads: 'realtime_bus_reads_total',
  busLastRead: 'realtime_bus_last_read_timestamp_seconds',
  busErrors: 'realtime_bus_errors_total',
  eventLoopLag: 'nodejs_eventloop_lag_seconds',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
  processCpuSeconds: 'process_cpu_seconds_total',
  processResidentMemory: 'process_resident_memory_bytes',
} as const;

/**
 * Why an event did not reach a client (label `reason` of sse_events_dropped_total):
 * queue_full (policy drop), slow_client_disconnected (policy disconnect), and events still
 * queued when the server closed the stream at shutdown or token expiry. Except queue_full,
 * the client gets them back when it resumes with Last-Event-ID.
 */
export const dropReasons = ['queue_full', 'slow_client_disconnected', 'shutdown', 'token_expired'] as const;
export type DropReason = (typeof dropReasons)[number];

/**
 * Why a stream was turned away for now (label `reason` of sse_connections_refused_total):
 * the instance holds SSE_MAX_CONNECTIONS (instance_full: scale out), the identity holds
 * SSE_MAX_CONNECTIONS_PER_IDENTITY on it (identity_full), or it used up
 * SSE_MAX_CONNECT_PER_MINUTE (attempt_rate).
 */
export const refusalReasons = ['instance_full', 'identity_full', 'attempt_rate'] as const;
export type RefusalReason = (typeof refusalReasons)[number];

/** Exported by the controller on its METRICS_PORT (9465): the one exporter of stream-wide figures. */
export const controllerMetrics = {
  streamLength: 'realtime_stream_length',
  streamMaxLen: 'realtime_stream_maxlen',
  groupPending: 'realtime_stream_group_pending',
  groupOldestPendingAge: 'realtime_stream_group_oldest_pending_age_seconds',
  groupLag: 'realtime_stream_group_lag',
  groupConsumerIdle: 'realtime_stream_group_consumer_idle_seconds',
  remediations: 'controller_remediations_total',
  skippedRemediations: 'controller_skipped_remediations_total',
  staleGroupsCollected: 'controller_stale_groups_collected_total',
  leader: 'controller_leader',
  observeErrors: 'controller_observe_errors_total',
} as const;

/**
 * How the controller restarts a stuck pod (label `action` of controller_remediations_total;
 * also CONTROLLER_ACTION and the policy's `action`, and each needs its own RBAC grant).
 */
export const remediationActions = ['evict', 'delete', 'rollout-restart'] as const;
export type RemediationAction = (typeof remediationActions)[number];

/** Why a group counts as stuck (label `reason` of controller_remediations_total). */
export const stuckReasons = ['pending_entries', 'oldest_pending_age', 'lag_growing_idle_consumer'] as const;
export type StuckReason = (typeof stuckReasons)[number];

/**
 * How a remediation attempt ended (label `result` of controller_remediations_total): done, a
 * dry run, backoff (the eviction API refused, e.g. a PodDisruptionBudget), or failed.
 */
export const remediationResults = ['done', 'dry_run', 'backoff', 'failed'] as const;
export type RemediationResult = (typeof remediationResults)[number];

/** Why the controller held back a remediation it wanted (label `reason` of controller_skipped_remediations_total). */
export const skippedRemediationReasons = [
  'redis_unreachable',
  'in_flight',
  'pod_cooldown',
  'stream_cooldown',
  'budget_exhausted',
  'min_ready_pods',
  'backing_off',
  'pods_unknown',
] as const;
export type SkippedRemediationReason = (typeof skippedRemediationReasons)[number];

/** The Redis hash the runbook reads with `redis-cli HGETALL metrics:sse`. */
export const SSE_METRICS_HASH = 'metrics:sse';
