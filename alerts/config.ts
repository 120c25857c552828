// The deployment-side inputs of the alert rules: which Prometheus jobs scrape the service
// and the controller, and how long each condition must hold (`for:`) or be averaged over.
// Thresholds are not here: they are the contract's (#contract thresholds). A test that needs
// alerts within seconds renders the same rules with shorter durations, never other logic.

export interface AlertConfig {
  /** Job label of the service's metrics: a ServiceMonitor names it after the Service (k8s/base/service/service.yaml). */
  readonly serviceJob: string;
  /** Job label of the controller's metrics (the Service in k8s/base/controller/service.yaml). */
  readonly controllerJob: string;
  /** How far back a namespace counts as running the bundle, so its disappearance can page. */
  readonly presenceLookback: string;
  readonly for: {
    readonly droppedEvents: string;
    readonly consumerStuck: string;
    readonly consumerPending: string;
    readonly consumerLagging: string;
    readonly nearMaxLen: string;
    readonly deliveryLatency: string;
    readonly serviceDown: string;
    readonly controllerDown: string;
    readonly controllerLease: string;
    readonly remediation: string;
  };
  readonly windows: {
    /** The drop rate is read per minute, as the operations notes state their threshold. */
    readonly droppedEvents: string;
    readonly deliveryLatency: string;
    readonly publishRate: string;
    /** How long a failed or budget-skipped remediation keeps its alert up. */
    readonly remediation: string;
  };
}

export const alertConfig: AlertConfig = {
  serviceJob: 'trayb-realtime',
  controllerJob: 'trayb-realtime-controller-metrics',
  presenceLookback: '1h',
  for: {
    // The one-minute window already is the smoothing: a minute over the limit is the page.
    droppedEvents: '0s',
    consumerStuck: '2m',
    consumerPending: '5m',
    consumerLagging: '5m',
    nearMaxLen: '15m',
    deliveryLatency: '10m',
    serviceDown: '2m',
    controllerDown: '5m',
    controllerLease: '5m',
    remediation: '1m',
  },
  windows: {
    droppedEvents: '1m',
    deliveryLatency: '5m',
    publishRate: '15m',
    remediation: '15m',
  },
};
