// Repeats of one Event become one object with a count, as client-go's events/v1 recorder
// does: the first occurrence is created; an isomorphic one (same object, reason, action,
// type, related object and note) within the series window patches that Event's
// series.count and series.lastObservedTime instead of adding an object per poll. Pure
// bookkeeping; kube.ts makes the calls.
import type { ClusterEvent } from './cluster.ts';

/** client-go's window: an isomorphic Event after this long starts afresh. */
export const SERIES_WINDOW_MS = 6 * 60_000;
/** Series remembered at most; the oldest is forgotten first (client-go's cache is bounded too). */
const MAX_SERIES = 4096;

export type Occurrence =
  | { readonly op: 'create'; readonly name: string }
  | { readonly op: 'patch'; readonly name: string; readonly count: number };

interface Series {
  readonly name: string;
  readonly count: number;
  readonly lastObservedAt: number;
}

function keyOf(event: ClusterEvent): string {
  const { regarding, related, reason, action, type, note } = event;
  return JSON.stringify([regarding.kind, regarding.name, related?.kind, related?.name, reason, action, type, note]);
}

export class EventSeries {
  readonly #series = new Map<string, Series>();
  readonly #windowMs: number;

  constructor(windowMs = SERIES_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** Records an occurrence at `now` and says how to write it; `newName` names a new Event. */
  occurrence(event: ClusterEvent, now: number, newName: () => string): Occurrence {
    const key = keyOf(event);
    const known = this.#series.get(key);
    this.#series.delete(key); // re-inserted below: the Map's order is the recency order
    if (known !== undefined && now - known.lastObservedAt < this.#windowMs) {
      const next = { name: known.name, count: known.count + 1, lastObservedAt: now };
      this.#series.set(key, next);
      return { op: 'patch', name: next.name, count: next.count };
    }
    const name = newName();
    this.#series.set(key, { name, count: 1, lastObservedAt: now });
    if (this.#series.size > MAX_SERIES) this.#series.delete(this.#series.keys().next().value as string);
    return { op: 'create', name };
  }

  /** The Event is gone (expired by its TTL, deleted): the next occurrence creates a new one. */
  forget(event: ClusterEvent): void {
    this.#series.delete(keyOf(event));
  }
}
