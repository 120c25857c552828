// What travels on the stream: the event schema (over the topics named in the contract), the
// stream-entry encoding and Redis stream id arithmetic. Producers, readers and the SSE route
// all depend on this one definition.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { STREAM_EVENTS, type StreamEventName } from '../contract/index.ts';

/** Deepest nesting accepted inside `data` (guards JSON.stringify recursion and readers). */
const MAX_DATA_DEPTH = 16;

export const MatchId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9:_.-]*$' });

export const RealtimeEventInput = Type.Object(
  {
    matchId: MatchId,
    action: Type.Enum(STREAM_EVENTS),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    timestamp: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  },
  { additionalProperties: false },
);
export type RealtimeEventInput = Static<typeof RealtimeEventInput>;

/** The JSON every client receives in `data:`. */
export interface RealtimeEvent {
  readonly matchId: string;
  readonly action: StreamEventName;
  readonly data?: Record<string, unknown>;
  readonly timestamp: string;
}

/** An event as read back from the stream, with its id. */
export interface StreamEntry {
  readonly id: string;
  readonly event: RealtimeEvent;
}

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

const inputValidator = Compile(RealtimeEventInput);

function depthOf(value: unknown, limit: number): number {
  // Iterative, so a hostile structure cannot overflow the stack while being measured.
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Validates a producer's event and fills its timestamp; throws InvalidEventError. */
export function normaliseEvent(input: unknown, now: Date = new Date()): RealtimeEvent {
  if (!inputValidator.Check(input)) {
    const [first] = inputValidator.Errors(input);
    const where = first?.instancePath ? `${first.instancePath}: ` : '';
    throw new InvalidEventError(`invalid event: ${where}${first?.message ?? 'does not match the event schema'}`);
  }
  if (input.data !== undefined && depthOf(input.data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH) {
    throw new InvalidEventError(`invalid event: /data nests deeper than ${MAX_DATA_DEPTH} levels`);
  }
  const timestamp = input.timestamp === undefined ? now.toISOString() : new Date(input.timestamp).toISOString();
  return input.data === undefined
    ? { matchId: input.matchId, action: input.action, timestamp }
    : { matchId: input.matchId, action: input.action, data: input.data, timestamp };
}

/** Field/value pairs of a stream entry: event, payload (JSON), timestamp. */
export function entryFields(event: RealtimeEvent): string[] {
  return ['event', event.action, 'payload', JSON.stringify(event), 'timestamp', event.timestamp];
}

/** Decodes a stream entry's fields; undefined for entries this code did not write. */
export function decodeEntry(id: string, fields: readonly string[] | null): StreamEntry | undefined {
  if (fields === null) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== 'payload') continue;
    try {
      const event = JSON.parse(fields[i + 1] as string) as RealtimeEvent;
      if (typeof event.matchId !== 'string' || !(STREAM_EVENTS as readonly string[]).includes(event.action))
        return undefined;
      return { id, event };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;
const UINT64_MAX = 18446744073709551615n;

/** True for a complete Redis stream id `<ms>-<seq>` within 64-bit range. */
export function isStreamId(value: string): boolean {
  const match = STREAM_ID.exec(value);
  if (match === null) return false;
  return BigInt(match[1] as string) <= UINT64_MAX && BigInt(match[2] as string) <= UINT64_MAX;
}

function compareDecimal(a: string, b: string): number {
  // Both are digit strings without sign; strip leading zeros so length decides first.
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when the digits from..to start with a zero that is not the whole number. */
function paddedAt(id: string, from: number, to: number): boolean {
  return to - from > 1 && id.charCodeAt(from) === 48;
}

/** Compares digits a[af..at) with b[bf..bt), both without leading zeros. */
function compareDigitsIn(a: string, af: number, at: number, b: string, bf: number, bt: number): number {
  if (at - af !== bt - bf) return at - af - (bt - bf);
  for (let i = 0; i < at - af; i++) {
    const d = a.charCodeAt(af + i) - b.charCodeAt(bf + i);
    if (d !== 0) return d;
  }
  return 0;
}

/** Orders two stream ids: negative when a < b, 0 when equal, positive when a > b. */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  // The fan-out compares every event with every client's cursor, so ids as Redis writes them
  // (no leading zeros) are compared in place, without allocating; padded ids (only a
  // client's Last-Event-ID can have them) are normalised first.
  if (!paddedAt(a, 0, da) && !paddedAt(b, 0, db) && !paddedAt(a, da + 1, a.length) && !paddedAt(b, db + 1, b.length)) {
    return compareDigitsIn(a, 0, da, b, 0, db) || compareDigitsIn(a, da + 1, a.length, b, db + 1, b.length);
  }
  return compareDecimal(a.slice(0, da), b.slice(0, db)) || compareDecimal(a.slice(da + 1), b.slice(db + 1));
}
