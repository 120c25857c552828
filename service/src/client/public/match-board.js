// What the page shows, as pure functions: the matches by id, merged from REST snapshots and
// stream events in whatever order they arrive. Two rules keep it right when a snapshot and
// events race: a row only moves forward (updatedAt never goes back), and a snapshot that was
// requested before an event was applied cannot undo that event (each change remembers the
// local sequence number it was applied at).

/**
 * A match as the REST list and the match routes' events carry it.
 * @typedef {{ readonly id: string, readonly updatedAt: string, readonly createdAt?: string, readonly [field: string]: unknown }} BoardMatch
 */

/**
 * A row of the board: the match, the board's sequence number when the row last changed and
 * the last event that touched it.
 * @typedef {{ readonly match: BoardMatch, readonly seq: number, readonly lastEvent?: { readonly action: string, readonly at: string } | undefined }} BoardRow
 */

/**
 * seq counts every change applied; deleted remembers at which seq a match was deleted.
 * @typedef {{ readonly seq: number, readonly rows: ReadonlyMap<string, BoardRow>, readonly deleted: ReadonlyMap<string, number> }} Board
 */

/** @typedef {import('./stream-state.js').StreamEvent} BoardEvent */

/** @returns {Board} */
export function emptyBoard() {
  return { seq: 0, rows: new Map(), deleted: new Map() };
}

/**
 * Sorted for display: oldest match first, like the REST list.
 * @param {Board} board
 * @returns {BoardRow[]}
 */
export function matchesOf(board) {
  return [...board.rows.values()].sort(
    (a, b) =>
      String(a.match.createdAt).localeCompare(String(b.match.createdAt)) || a.match.id.localeCompare(b.match.id),
  );
}

/**
 * @param {unknown} value
 * @returns {value is BoardMatch}
 */
function isMatch(value) {
  if (value === null || typeof value !== 'object') return false;
  const fields = /** @type {{ id?: unknown, updatedAt?: unknown }} */ (value);
  return typeof fields.id === 'string' && typeof fields.updatedAt === 'string';
}

/**
 * @param {BoardMatch} candidate
 * @param {BoardRow} current
 */
function newer(candidate, current) {
  return String(candidate.updatedAt) >= String(current.match.updatedAt);
}

const EDITABLE = ['title', 'status', 'score', 'startsAt'];

/**
 * Applies one stream event. Events written by the match routes carry the whole match
 * (`data.match`); events from other producers may carry only changed fields, which are
 * merged into a known match. Returns the next board.
 * @param {Board} board
 * @param {BoardEvent} event
 * @param {string} [at] when it arrived, for events without a timestamp
 * @returns {Board}
 */
export function applyEvent(board, event, at = new Date().toISOString()) {
  const seq = board.seq + 1;
  const rows = new Map(board.rows);
  const deleted = new Map(board.deleted);
  const current = rows.get(event.matchId);
  const lastEvent = { action: event.action, at: event.timestamp ?? at };
  const data = event.data ?? {};

  if (event.action === 'match:deleted') {
    rows.delete(event.matchId);
    deleted.set(event.matchId, seq);
  } else if (isMatch(data.match) && data.match.id === event.matchId) {
    if (current === undefined || newer(data.match, current))
      rows.set(event.matchId, { match: data.match, seq, lastEvent });
    else rows.set(event.matchId, { ...current, lastEvent });
    deleted.delete(event.matchId);
  } else if (current !== undefined) {
    const changes = Object.fromEntries(EDITABLE.filter((key) => key in data).map((key) => [key, data[key]]));
    rows.set(event.matchId, { match: { ...current.match, ...changes }, seq, lastEvent });
  }
  return { seq, rows, deleted };
}

/**
 * Merges a REST snapshot requested when the board was at `requestedAtSeq`. The snapshot is
 * the truth for everything not changed by an event applied after the request went out.
 * @param {Board} board
 * @param {readonly unknown[]} matches
 * @param {number} requestedAtSeq
 * @returns {Board}
 */
export function applySnapshot(board, matches, requestedAtSeq) {
  const seq = board.seq + 1;
  /** @type {Map<string, BoardRow>} */
  const rows = new Map();
  /** @type {Set<string>} */
  const listed = new Set();
  for (const match of matches) {
    if (!isMatch(match)) continue;
    listed.add(match.id);
    const deletedAt = board.deleted.get(match.id);
    if (deletedAt !== undefined && deletedAt > requestedAtSeq) continue;
    const current = board.rows.get(match.id);
    if (current !== undefined && current.seq > requestedAtSeq && !newer(match, current)) rows.set(match.id, current);
    else rows.set(match.id, { match, seq, lastEvent: current?.lastEvent });
  }
  // Rows the snapshot lacks: keep only those created by events after the request.
  for (const [id, row] of board.rows) if (!listed.has(id) && row.seq > requestedAtSeq) rows.set(id, row);
  const deleted = new Map([...board.deleted].filter(([, at]) => at > requestedAtSeq));
  return { seq, rows, deleted };
}
