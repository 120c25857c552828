// Types of live-client.js for the TypeScript tests that import it (the browser needs none).
import type { Policy, StreamState } from './stream-state.js';

export const LAST_EVENT_ID_KEY: string;

export interface LiveStatus extends StreamState {
  readonly polling: boolean;
  readonly nextAttemptAt: number | null;
  readonly lastPollAt: number | null;
  readonly lastError: string | null;
  readonly pollIntervalMs: number;
  readonly counts: { attempts: number; opens: number; failures: number; duplicates: number; polls: number; resyncs: number };
}

export interface EventSourceLike {
  addEventListener(type: string, listener: (message: { data: string; lastEventId: string }) => void): void;
  close(): void;
}

export interface LiveClientOptions {
  baseUrl?: string;
  streamPath?: string;
  getToken?: () => Promise<string | undefined>;
  onEvent?: (event: Record<string, unknown>, id: string) => void;
  onRefresh?: (reason: 'initial' | 'resync' | 'poll' | 'reconnected') => Promise<void>;
  onStatus?: (status: LiveStatus) => void;
  policy?: Policy;
  matchIds?: readonly string[];
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
  EventSourceImpl?: new (url: string) => EventSourceLike;
  timers?: { setTimeout(callback: () => void, ms: number): unknown; clearTimeout(id: unknown): void };
  random?: () => number;
}

export function createLiveClient(options: LiveClientOptions): { start(): void; stop(): void; status(): LiveStatus };
