// The browser client's connection policy, run in Node: when failures turn into polling,
// how long it waits, what `shutdown` does, and which events count as new.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STREAM_EVENTS as SERVER_STREAM_EVENTS } from '#contract';
import { compareStreamIds as serverCompare } from '../../src/bus/index.ts';
import {
  DEFAULT_POLICY,
  STREAM_EVENTS,
  compareStreamIds,
  eventReceived,
  initialState,
  policyFrom,
  retryDelay,
  shutdownAnnounced,
  streamFailed,
  streamOpened,
  type StreamState,
} from '../../src/client/public/stream-state.js';

const noJitter = () => 0;

function failTimes(state: StreamState, times: number): StreamState {
  for (let i = 0; i < times; i++) state = streamFailed(state, DEFAULT_POLICY, noJitter).state;
  return state;
}

describe('failover to polling', () => {
  it('reconnects after the first two consecutive failures and polls from the third', () => {
    const start = initialState();
    expect(failTimes(start, 1)).toMatchObject({ mode: 'reconnecting', consecutiveFailures: 1 });
    expect(failTimes(start, 2)).toMatchObject({ mode: 'reconnecting', consecutiveFailures: 2 });
    expect(failTimes(start, 3)).toMatchObject({ mode: 'polling', consecutiveFailures: 3 });
    expect(failTimes(start, 7)).toMatchObject({ mode: 'polling', consecutiveFailures: 7 });
  });

  it('forgives failures once the stream opens, so a later break starts counting at one', () => {
    const back = streamOpened(failTimes(initialState(), 5));
    expect(back).toMatchObject({ mode: 'live', consecutiveFailures: 0 });
    expect(failTimes(back, 1)).toMatchObject({ mode: 'reconnecting', consecutiveFailures: 1 });
  });

  it('honours a different threshold', () => {
    const policy = { ...DEFAULT_POLICY, failuresBeforePolling: 1 };
    expect(streamFailed(initialState(), policy, noJitter).state.mode).toBe('polling');
  });
});

describe('backoff', () => {
  it('doubles the delay per consecutive failure up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((failures) => retryDelay(failures, DEFAULT_POLICY, noJitter));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(streamFailed(failTimes(initialState(), 2), DEFAULT_POLICY, noJitter).retryInMs).toBe(4000);
  });

  it('takes at most the jitter share off a delay, never adds to it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (failures, random) => {
          const full = retryDelay(failures, DEFAULT_POLICY, noJitter);
          const delay = retryDelay(failures, DEFAULT_POLICY, () => random);
          return delay <= full && delay >= Math.floor(full * (1 - DEFAULT_POLICY.jitter));
        },
      ),
    );
  });
});

describe('shutdown', () => {
  it('reconnects after the hint the event carries without counting a failure', () => {
    const live = streamOpened(initialState('5-0'));
    const next = shutdownAnnounced(live, 300);
    expect(next).toEqual({
      state: { mode: 'reconnecting', consecutiveFailures: 0, lastEventId: '5-0' },
      retryInMs: 300,
    });
  });

  it('falls back to the advertised default when the hint is missing or nonsense', () => {
    expect(shutdownAnnounced(initialState(), undefined).retryInMs).toBe(5000);
    expect(shutdownAnnounced(initialState(), -1).retryInMs).toBe(5000);
  });
});

describe('dedupe by id', () => {
  it('accepts growing ids and drops any id at or before the last one seen', () => {
    let state = initialState();
    const fresh: string[] = [];
    for (const id of ['9-0', '10-0', '10-0', '9-5', '10-1', '10-2', '10-1']) {
      const next = eventReceived(state, id);
      state = next.state;
      if (next.fresh) fresh.push(id);
    }
    expect(fresh).toEqual(['9-0', '10-0', '10-1', '10-2']);
    expect(state.lastEventId).toBe('10-2');
  });

  it('resumes from a stored id and ignores a stored value that is not a stream id', () => {
    expect(eventReceived(initialState('10-2'), '10-2').fresh).toBe(false);
    expect(initialState('garbage').lastEventId).toBeNull();
  });

  it('orders stream ids exactly as the service does', () => {
    const id = fc
      .tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
      .map(([ms, seq]) => `${ms}-${seq}`);
    fc.assert(fc.property(id, id, (a, b) => Math.sign(compareStreamIds(a, b)) === Math.sign(serverCompare(a, b))));
  });
});

describe('topics and tuning', () => {
  it('listens to every topic the service publishes', () => {
    expect([...STREAM_EVENTS]).toEqual([...SERVER_STREAM_EVENTS]);
  });

  it('takes delays from the page address, clamped so a typo cannot hammer the service', () => {
    const policy = policyFrom(
      new URLSearchParams('retryBaseMs=200&retryMaxMs=50&pollIntervalMs=1&failuresBeforePolling=x'),
    );
    expect(policy).toMatchObject({ retryBaseMs: 200, retryMaxMs: 200, pollIntervalMs: 250, failuresBeforePolling: 3 });
  });
});
