// Server-Sent Events framing. Each event is serialised once per instance and the same
// string is written to every subscriber.
import type { ControlEventName, StreamEntry } from '../bus/index.ts';

export const HEARTBEAT_FRAME = ': heartbeat\n\n';

export function retryFrame(retryMs: number): string {
  return `retry: ${retryMs}\n\n`;
}

/** `id:` the stream id, `event:` the action, `data:` the event JSON (one line: JSON has no raw newlines). */
export function eventFrame(entry: StreamEntry): string {
  return `id: ${entry.id}\nevent: ${entry.event.action}\ndata: ${JSON.stringify(entry.event)}\n\n`;
}

/** Control events carry no id, so they never move the client's Last-Event-ID. */
export function controlFrame(action: ControlEventName, details: Record<string, unknown> = {}): string {
  return `event: ${action}\ndata: ${JSON.stringify({ action, ...details, timestamp: new Date().toISOString() })}\n\n`;
}
