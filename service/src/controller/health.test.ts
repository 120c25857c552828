// The controller's probes as a table: liveness fails when a loop has not finished a round
// within its bound (whatever the outcome of its rounds), readiness waits for the first poll.
import { describe, expect, it } from 'vitest';
import { ControllerHealth, loopBounds } from './health.ts';

const bounds = { poll: 10_000, election: 4000 };

function health(rounds: [number, 'poll' | 'election'][], at: number) {
  const clock = { now: 0 };
  const h = new ControllerHealth(bounds, () => clock.now);
  for (const [t, loop] of rounds) {
    clock.now = t;
    h.progressed(loop);
  }
  clock.now = at;
  return h;
}

describe('controller probes', () => {
  it.each<[string, [number, 'poll' | 'election'][], number, boolean, boolean]>([
    ['just started: live, not ready', [], 1000, true, false],
    [
      'both loops turning',
      [
        [1000, 'poll'],
        [3000, 'election'],
        [9000, 'poll'],
        [11_000, 'election'],
      ],
      12_000,
      true,
      true,
    ],
    [
      'the poll wedged for longer than its bound',
      [
        [1000, 'poll'],
        [14_000, 'election'],
      ],
      11_001,
      false,
      false,
    ],
    [
      'the election wedged for longer than its bound',
      [
        [9000, 'poll'],
        [5000, 'election'],
      ],
      9001,
      false,
      false,
    ],
    [
      'no poll ever finished, past the bound',
      [
        [3000, 'election'],
        [6000, 'election'],
        [9000, 'election'],
      ],
      10_001,
      false,
      false,
    ],
  ])('%s', (_name, rounds, at, live, ready) => {
    const h = health(rounds, at);
    expect(h.liveness().ok).toBe(live);
    expect(h.readiness().ok).toBe(ready);
  });

  it('says which loop is stuck and for how long', () => {
    expect(
      health(
        [
          [1000, 'poll'],
          [14_000, 'election'],
        ],
        14_000,
      ).liveness().detail,
    ).toBe('poll loop: last round finished 13000 ms ago (bound 10000 ms)');
  });

  it('the default bounds leave each loop several of its own periods', () => {
    expect(
      loopBounds({ pollIntervalMs: 5000, observeTimeoutMs: 5000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 }),
    ).toEqual({
      poll: 55_000,
      election: 14_000,
    });
  });
});
