// The harness's shared state, created before the k6 stand-ins load (main.js imports this
// first). __ENV is set by the host: hooks.js under Node, the Go program under sobek.
globalThis.fakeK6 = { checks: [], sleeps: [], failures: [], metrics: {}, service: null, exec: null };
