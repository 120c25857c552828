// Event aggregation as client-go's recorder does it: isomorphic repeats within the window
// count on one Event; anything that differs, or comes after the window, is a new Event.
import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from './cluster.ts';
import { EventSeries, SERIES_WINDOW_MS } from './event-series.ts';

const event: ClusterEvent = {
  regarding: { kind: 'Pod', name: 'rt-1' },
  related: { kind: 'StreamRemediationPolicy', name: 'realtime' },
  reason: 'RemediationSkipped',
  action: 'Evict',
  note: 'only 0 ready pods would remain',
  type: 'Warning',
};

describe('event series', () => {
  it.each<[string, ClusterEvent, number, string]>([
    ['the same Event a poll later counts on the first', event, 5000, 'patch:2'],
    ['just inside the window still counts', event, SERIES_WINDOW_MS - 1, 'patch:2'],
    ['after the window it starts a new Event', event, SERIES_WINDOW_MS, 'create'],
    ['another note is another Event', { ...event, note: 'budget exhausted' }, 5000, 'create'],
    ['another object is another Event', { ...event, regarding: { kind: 'Pod', name: 'rt-2' } }, 5000, 'create'],
    ['another reason is another Event', { ...event, reason: 'StuckConsumerDryRun' }, 5000, 'create'],
    ['without the related object it is another Event', { ...event, related: undefined }, 5000, 'create'],
  ])('%s', (_name, second, at, expected) => {
    const series = new EventSeries();
    let n = 0;
    const name = () => `e${++n}`;
    expect(series.occurrence(event, 0, name)).toEqual({ op: 'create', name: 'e1' });
    const next = series.occurrence(second, at, name);
    expect(next.op === 'patch' ? `patch:${next.count}` : next.op).toBe(expected);
    if (next.op === 'patch') expect(next.name).toBe('e1');
  });

  it('the window runs from the last occurrence, and a forgotten Event starts over', () => {
    const series = new EventSeries();
    let n = 0;
    const name = () => `e${++n}`;
    series.occurrence(event, 0, name);
    for (let i = 1; i <= 10; i++) series.occurrence(event, i * (SERIES_WINDOW_MS - 1), name);
    expect(series.occurrence(event, 11 * (SERIES_WINDOW_MS - 1), name)).toEqual({ op: 'patch', name: 'e1', count: 12 });
    series.forget(event);
    expect(series.occurrence(event, 11 * SERIES_WINDOW_MS, name)).toEqual({ op: 'create', name: 'e2' });
  });
});
