// What the page shows when REST snapshots and stream events race: rows only move forward,
// and a snapshot requested before an event cannot undo it.
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  applySnapshot,
  emptyBoard,
  matchesOf,
  type Board,
  type BoardMatch,
} from '../../src/client/public/match-board.js';

function match(id: string, updatedAt: string, fields: Partial<BoardMatch> = {}): BoardMatch {
  return {
    id,
    title: id,
    status: 'live',
    score: { home: 0, away: 0 },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt,
    ...fields,
  };
}
const T1 = '2026-01-01T00:00:01.000Z';
const T2 = '2026-01-01T00:00:02.000Z';
const scores = (board: Board) => Object.fromEntries(matchesOf(board).map((row) => [row.match.id, row.match.score]));

describe('the match board', () => {
  it('shows the match an event carries and never goes back to an older version', () => {
    let board = applyEvent(emptyBoard(), {
      matchId: 'a',
      action: 'match:updated',
      data: { match: match('a', T2, { score: { home: 2, away: 0 } }) },
    });
    board = applyEvent(board, {
      matchId: 'a',
      action: 'match:updated',
      data: { match: match('a', T1, { score: { home: 1, away: 0 } }) },
    });
    expect(scores(board)).toEqual({ a: { home: 2, away: 0 } });
    expect(matchesOf(board)[0]?.lastEvent?.action).toBe('match:updated');
  });

  it('merges an event that carries only changed fields into a known match, and ignores it for an unknown one', () => {
    let board = applySnapshot(emptyBoard(), [match('a', T1)], 0);
    board = applyEvent(board, {
      matchId: 'a',
      action: 'match:updated',
      data: { score: { home: 3, away: 3 }, unrelated: true },
    });
    board = applyEvent(board, { matchId: 'zz', action: 'match:updated', data: { score: { home: 9, away: 9 } } });
    expect(scores(board)).toEqual({ a: { home: 3, away: 3 } });
    expect(matchesOf(board)[0]?.match).not.toHaveProperty('unrelated');
  });

  it('keeps a match created by an event that a slower, earlier snapshot did not know', () => {
    const requestedAt = emptyBoard().seq;
    let board = applyEvent(emptyBoard(), {
      matchId: 'new',
      action: 'match:created',
      data: { match: match('new', T1) },
    });
    board = applySnapshot(board, [match('old', T1)], requestedAt);
    expect(Object.keys(scores(board)).sort()).toEqual(['new', 'old']);
  });

  it('does not bring back a match deleted after the snapshot was requested', () => {
    let board = applySnapshot(emptyBoard(), [match('a', T1)], 0);
    const requestedAt = board.seq;
    board = applyEvent(board, { matchId: 'a', action: 'match:deleted', data: { id: 'a' } });
    board = applySnapshot(board, [match('a', T1)], requestedAt);
    expect(scores(board)).toEqual({});
  });

  it('takes the snapshot as the truth for everything changed before it was requested', () => {
    let board = applyEvent(emptyBoard(), {
      matchId: 'gone',
      action: 'match:created',
      data: { match: match('gone', T1) },
    });
    board = applyEvent(board, { matchId: 'a', action: 'match:created', data: { match: match('a', T1) } });
    board = applySnapshot(board, [match('a', T2, { score: { home: 0, away: 1 } })], board.seq);
    expect(scores(board)).toEqual({ a: { home: 0, away: 1 } });
  });

  it('keeps a newer event over an older snapshot requested before it, and takes a newer snapshot', () => {
    let board = applySnapshot(emptyBoard(), [match('a', T1)], 0);
    const requestedAt = board.seq;
    board = applyEvent(board, {
      matchId: 'a',
      action: 'match:updated',
      data: { match: match('a', T2, { score: { home: 1, away: 0 } }) },
    });
    expect(scores(applySnapshot(board, [match('a', T1)], requestedAt))).toEqual({ a: { home: 1, away: 0 } });
    const later = '2026-01-01T00:00:03.000Z';
    expect(scores(applySnapshot(board, [match('a', later, { score: { home: 5, away: 0 } })], requestedAt))).toEqual({
      a: { home: 5, away: 0 },
    });
  });
});
