// The contract: what the service, the controller, the dashboards, the alert rules and the
// load test agree on, so none of them can drift from the others.
//   thresholds.ts       the numbers that decide "healthy" (controller acts, dashboards draw, alerts fire)
//   metric-names.ts     metric names and the label values queries match on
//   consumer-groups.ts  how an instance's consumer group is named, and read back to its pod
//   stream-topics.ts    the event names a stream client receives
// It imports nothing, so any part can depend on it. Code under service/src imports this index
// by relative path (the compiled image resolves only those); the parts outside service/src
// import it as the package's `#contract` (package.json "imports"), never by a path into service/src.
export * from './thresholds.ts';
export * from './metric-names.ts';
export * from './consumer-groups.ts';
export * from './stream-topics.ts';
