// Matches live in one Redis hash (id → JSON). Every change is written by a script that
// compares, stores and appends the event to the stream in one step, so a match change and
// its realtime event land together or not at all, and concurrent writers cannot lose updates.
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/index.ts';
import { Type, type Static } from 'typebox';
import { MatchId, normaliseEvent, type EventPublisher, type StreamEntry } from '../bus/index.ts';
import type { StreamEventName } from '../contract/index.ts';
import { HttpError } from './errors.ts';

const MatchStatus = Type.Enum(['scheduled', 'live', 'finished', 'cancelled']);
const Score = Type.Object(
  { home: Type.Integer({ minimum: 0 }), away: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
const Title = Type.String({ minLength: 1, maxLength: 200 });
const StartsAt = Type.String({ format: 'date-time', maxLength: 40 });

export const Match = Type.Object({
  id: MatchId,
  title: Title,
  status: MatchStatus,
  score: Score,
  startsAt: Type.Optional(StartsAt),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Match = Static<typeof Match>;

export const CreateMatch = Type.Object(
  {
    id: Type.Optional(MatchId),
    title: Title,
    status: Type.Optional(MatchStatus),
    score: Type.Optional(Score),
    startsAt: Type.Optional(StartsAt),
  },
  { additionalProperties: false },
);
export const UpdateMatch = Type.Object(
  {
    title: Type.Optional(Title),
    status: Type.Optional(MatchStatus),
    score: Type.Optional(Score),
    startsAt: Type.Optional(StartsAt),
  },
  { additionalProperties: false, minProperties: 1 },
);

// KEYS: matches hash, stream. ARGV: id, expected current JSON ('' = absent), new JSON ('' = delete),
// then the XADD arguments after the key, as the publisher writes them (trim, id, fields).
const CHANGE_AND_EMIT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return false end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return redis.call('XADD', KEYS[2], unpack(ARGV, 4))
`;

const MAX_ATTEMPTS = 5;

type Changer = RedisClient & {
  matchChangeAndEmit(matches: string, stream: string, ...args: (string | number)[]): Promise<string | null>;
};

export class MatchStore {
  readonly #redis: Changer;
  readonly #key: string;
  readonly #publisher: EventPublisher;
  readonly #cacheTtlMs: number;
  #cache: { at: number; matches: Match[] } | undefined;

  constructor(redis: RedisClient, options: { key: string; cacheTtlMs: number; publisher: EventPublisher }) {
    if (!('matchChangeAndEmit' in redis))
      redis.defineCommand('matchChangeAndEmit', { numberOfKeys: 2, lua: CHANGE_AND_EMIT });
    this.#redis = redis as Changer;
    this.#key = options.key;
    this.#publisher = options.publisher;
    this.#cacheTtlMs = options.cacheTtlMs;
  }

  /** Every match; served from a short per-instance cache unless `refresh`. */
  async list(refresh = false): Promise<Match[]> {
    const now = Date.now();
    if (!refresh && this.#cache !== undefined && now - this.#cache.at < this.#cacheTtlMs) return this.#cache.matches;
    const values = await this.#redis.hvals(this.#key);
    const matches = values
      .map((value) => JSON.parse(value) as Match)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    this.#cache = { at: now, matches };
    return matches;
  }

  /** Called for every event this instance reads: another instance may have changed a match. */
  invalidate(): void {
    this.#cache = undefined;
  }

  async get(id: string): Promise<Match | undefined> {
    const value = await this.#redis.hget(this.#key, id);
    return value === null ? undefined : (JSON.parse(value) as Match);
  }

  async create(input: Static<typeof CreateMatch>): Promise<{ match: Match; entry: StreamEntry }> {
    const now = new Date().toISOString();
    const match: Match = {
      id: input.id ?? randomUUID(),
      title: input.title,
      status: input.status ?? 'scheduled',
      score: input.score ?? { home: 0, away: 0 },
      ...(input.startsAt === undefined ? {} : { startsAt: input.startsAt }),
      createdAt: now,
      updatedAt: now,
    };
    const entry = await this.#change(match.id, '', match, 'match:created');
    if (entry === null) throw new HttpError(409, `a match with id ${match.id} exists`);
    return { match, entry };
  }

  async update(id: string, changes: Static<typeof UpdateMatch>): Promise<{ match: Match; entry: StreamEntry }> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#redis.hget(this.#key, id);
      if (current === null) throw new HttpError(404, `no match with id ${id}`);
      const match: Match = { ...(JSON.parse(current) as Match), ...changes, updatedAt: new Date().toISOString() };
      const entry = await this.#change(id, current, match, 'match:updated');
      if (entry !== null) return { match, entry };
    }
    throw new HttpError(409, `match ${id} is being changed concurrently; retry`);
  }

  async remove(id: string): Promise<StreamEntry> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#redis.hget(this.#key, id);
      if (current === null) throw new HttpError(404, `no match with id ${id}`);
      const entry = await this.#change(id, current, undefined, 'match:deleted');
      if (entry !== null) return entry;
    }
    throw new HttpError(409, `match ${id} is being changed concurrently; retry`);
  }

  async #change(
    id: string,
    expected: string,
    next: Match | undefined,
    action: StreamEventName,
  ): Promise<StreamEntry | null> {
    const event = normaliseEvent({ matchId: id, action, data: next === undefined ? { id } : { match: next } });
    const entry = await this.#publisher.emitWith(event, (stream, xadd) =>
      this.#redis.matchChangeAndEmit(
        this.#key,
        stream,
        id,
        expected,
        next === undefined ? '' : JSON.stringify(next),
        ...xadd,
      ),
    );
    if (entry !== null) this.invalidate();
    return entry;
  }
}
