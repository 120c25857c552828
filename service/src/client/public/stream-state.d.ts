// Types of stream-state.js for the TypeScript tests that import it (the browser needs none).
export type Mode = 'connecting' | 'live' | 'reconnecting' | 'polling';

export interface Policy {
  readonly failuresBeforePolling: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly jitter: number;
  readonly pollIntervalMs: number;
  readonly shutdownRetryMs: number;
}

export interface StreamState {
  readonly mode: Mode;
  readonly consecutiveFailures: number;
  readonly lastEventId: string | null;
}

export const STREAM_EVENTS: readonly string[];
export const DEFAULT_POLICY: Policy;
export function isStreamId(value: unknown): value is string;
export function compareStreamIds(a: string, b: string): -1 | 0 | 1;
export function initialState(lastEventId?: string | null): StreamState;
export function streamOpened(state: StreamState): StreamState;
export function retryDelay(failures: number, policy?: Policy, random?: () => number): number;
export function streamFailed(state: StreamState, policy?: Policy, random?: () => number): { state: StreamState; retryInMs: number };
export function shutdownAnnounced(state: StreamState, retryMs: unknown, policy?: Policy): { state: StreamState; retryInMs: number };
export function eventReceived(state: StreamState, id: string): { state: StreamState; fresh: boolean };
export function policyFrom(params: URLSearchParams, base?: Policy): Policy;
