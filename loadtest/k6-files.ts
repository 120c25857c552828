// The files k6 needs to run sse.js: the script and every module it imports, all in this
// folder, so they fit one flat ConfigMap (k8s/loadtest) or a `k6 archive`. Whoever copies
// the script somewhere (the bundle's generator) copies this list; a test keeps it equal to
// what sse.js really imports.
export const K6_SCRIPT = 'sse.js';

export const K6_FILES = [
  K6_SCRIPT,
  'plan.js',
  'room.js',
  'subscriber-ledger.js',
  'room-ledger.js',
  'ids.js',
  'verdict.js',
  'prometheus.js',
  'prometheus-api.js',
  'summary.js',
] as const;
