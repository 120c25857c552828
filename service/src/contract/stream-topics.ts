// The event names a stream client can receive: the topics producers publish (stored in the
// stream) and the control events an instance writes to its own clients. Producers and the SSE
// route name events from these lists; the browser client keeps a copy a test holds equal.

/** Topics that producers may publish. New topics are added here and nowhere else. */
export const STREAM_EVENTS = ['match:created', 'match:updated', 'match:deleted'] as const;
export type StreamEventName = (typeof STREAM_EVENTS)[number];

/**
 * Control events an instance writes to its own clients; never stored in the stream.
 * `refused` is the whole body of a stream turned away for now (a limit, a full instance):
 * come back after its `retryMs`.
 */
export const CONTROL_EVENTS = ['shutdown', 'resync', 'refused'] as const;
export type ControlEventName = (typeof CONTROL_EVENTS)[number];
