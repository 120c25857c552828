// Types of match-board.js for the TypeScript tests that import it (the browser needs none).
export interface BoardMatch {
  readonly id: string;
  readonly updatedAt: string;
  readonly createdAt?: string;
  readonly [field: string]: unknown;
}

export interface BoardRow {
  readonly match: BoardMatch;
  readonly seq: number;
  readonly lastEvent?: { readonly action: string; readonly at: string };
}

export interface Board {
  readonly seq: number;
  readonly rows: ReadonlyMap<string, BoardRow>;
  readonly deleted: ReadonlyMap<string, number>;
}

export interface BoardEvent {
  readonly matchId: string;
  readonly action: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp?: string;
}

export function emptyBoard(): Board;
export function matchesOf(board: Board): BoardRow[];
export function applyEvent(board: Board, event: BoardEvent, at?: string): Board;
export function applySnapshot(board: Board, matches: readonly unknown[], requestedAtSeq: number): Board;
