// Types of the xk6-sse extension (github.com/phymbert/xk6-sse), `import sse from 'k6/x/sse'`,
// written from its Go sources (sse.go): what the module exports and what its callbacks
// receive. @types/k6 does not cover extensions; this file lets `tsc -p loadtest` reject a
// wrong call in loadtest/sse.js before anyone runs k6.
declare module 'k6/x/sse' {
  import type { CookieJar } from 'k6/http';

  /**
   * One message of the stream. Comment lines (`: heartbeat`) and retry hints arrive as
   * events too, with empty id, name and data. Go field names reach JavaScript lower-cased.
   */
  export interface SseEvent {
    readonly id: string;
    readonly name: string;
    readonly data: string;
    readonly comment: string;
  }

  /** A Go error as the extension hands it to JavaScript. */
  export interface SseError {
    error(): string;
  }

  export interface SseClient {
    on(event: 'open', handler: () => void): void;
    on(event: 'event', handler: (event: SseEvent) => void): void;
    on(event: 'error', handler: (error: SseError) => void): void;
    /** Ends the stream; sse.open() then returns. */
    close(): void;
  }

  export interface SseParams {
    /** GET unless set. */
    method?: string;
    /** Sent as-is (after trimming spaces). */
    body?: string;
    /** One value per header name; Accept is text/event-stream already. */
    headers?: Record<string, string>;
    /** Extra metric tags for the request and the sse_event counter. */
    tags?: Record<string, string>;
    /** A cookie jar from k6/http. */
    jar?: CookieJar;
  }

  /** What sse.open() returns once the stream ends (or failed to open). */
  export interface SseResponse {
    readonly url: string;
    /** HTTP status; 0 when the request failed. */
    readonly status: number;
    readonly headers: Record<string, string>;
    /** Empty unless opening failed. */
    readonly error: string;
  }

  /**
   * Opens the stream and blocks the VU until the stream ends: the setup callback registers
   * handlers, which run one at a time on the VU's thread while the stream is read. A
   * handler that does not return (sleep()) stops the reading: the socket fills, as behind
   * a slow client. Not allowed in the init context.
   */
  export function open(url: string, params: SseParams | null, setup: (client: SseClient) => void): SseResponse;
  export function open(url: string, setup: (client: SseClient) => void): SseResponse;

  const sse: { open: typeof open };
  export default sse;
}
