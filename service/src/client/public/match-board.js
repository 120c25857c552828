// What the page shows, as pure functions: the matches by id, merged from REST snapshots and
// stream events in whatever order they arrive. Two rules keep it right when a snapshot and
// events race: a row only moves forward (updatedAt never goes back), and a snapshot that was
// requested before an event was applied cannot undo that event (each change remembers the
// local sequence number it was applied at).

export function emptyBoard() {
  return { seq: 0, rows: new Map(), deleted: new Map() };
}

/** Sorted for display: oldest match first, like the REST list. */
export function matchesOf(board) {
  return [...board.rows.values()].sort((a, b) => String(a.match.createdAt).localeCompare(String(b.match.createdAt)) || a.match.id.localeCompare(b.match.id));
}

function isMatch(value) {
  return value !== null && typeof value === 'object' && typeof value.id === 'string' && typeof value.updatedAt === 'string';
}

function newer(candidate, current) {
  return current === undefined || String(candidate.updatedAt) >= String(current.match.updatedAt);
}

const EDITABLE = ['title', 'status', 'score', 'startsAt'];

/**
 * Applies one stream event. Events written by the match routes carry the whole match
 * (`data.match`); events from other producers may carry only changed fields, which are
 * merged into a known match. Returns the next board.
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
    if (newer(data.match, current)) rows.set(event.matchId, { match: data.match, seq, lastEvent });
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
 */
export function applySnapshot(board, matches, requestedAtSeq) {
  const seq = board.seq + 1;
  const rows = new Map();
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
