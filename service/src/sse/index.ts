// The SSE stream: the route, the per-instance fan-out indexed by room, each client's
// bounded queue and cursor, heartbeats and the shutdown drain.
export { Fanout, type FanoutOptions } from './fanout.ts';
export { ClientQueue } from './client-queue.ts';
export { streamRoute } from './route.ts';
export { STREAM_HEADERS, wantsEventStream } from './refusal.ts';
export { HEARTBEAT_FRAME, controlFrame, eventFrame, retryFrame } from './frames.ts';
