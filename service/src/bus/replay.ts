// Resume support: whether a client's Last-Event-ID is still covered by the stream, and the
// entries after it, read with XRANGE in bounded batches.
import type { RedisClient } from '../redis/index.ts';
import { compareStreamIds, decodeEntry, type StreamEntry } from './events.ts';

/**
 * covered: every entry after the id is still in the stream.
 * trimmed: entries after the id may have been trimmed away (MAXLEN), so the client must resync.
 * unknown: the id is beyond anything this stream produced (another stream, or Redis lost its data).
 */
export type ResumeCoverage = 'covered' | 'trimmed' | 'unknown';

function field(reply: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
  return undefined;
}

export async function resumeCoverage(redis: RedisClient, key: string, lastId: string): Promise<ResumeCoverage> {
  let info: unknown[];
  try {
    info = (await redis.call('XINFO', 'STREAM', key)) as unknown[];
  } catch (error) {
    if (error instanceof Error && /no such key/i.test(error.message)) return 'unknown';
    throw error;
  }
  const lastGenerated = String(field(info, 'last-generated-id'));
  const order = compareStreamIds(lastId, lastGenerated);
  if (order > 0) return 'unknown';
  if (order === 0) return 'covered';
  const length = Number(field(info, 'length'));
  // Trimming does not record what it removed, so only "never removed anything" or
  // "the id is at or after the oldest entry we still hold" prove there is no gap.
  if (Number(field(info, 'entries-added')) === length) return 'covered';
  const first = field(info, 'first-entry') as [string, string[]] | null | undefined;
  if (length > 0 && first && compareStreamIds(lastId, first[0]) >= 0) return 'covered';
  return 'trimmed';
}

/** Yields the entries strictly after `lastId`, oldest first, `batch` at a time. */
export async function* replayEventsSince(
  redis: RedisClient,
  key: string,
  lastId: string,
  batch: number,
): AsyncGenerator<StreamEntry[]> {
  let cursor = lastId;
  for (;;) {
    const raw = (await redis.xrange(key, `(${cursor}`, '+', 'COUNT', batch)) as [string, string[]][];
    if (raw.length === 0) return;
    cursor = raw[raw.length - 1]?.[0] ?? cursor;
    const entries: StreamEntry[] = [];
    for (const [id, fields] of raw) {
      const entry = decodeEntry(id, fields);
      if (entry !== undefined) entries.push(entry);
    }
    if (entries.length > 0) yield entries;
    if (raw.length < batch) return;
  }
}

/** The newest `count` entries, newest first. */
export async function recentEvents(redis: RedisClient, key: string, count: number): Promise<StreamEntry[]> {
  const raw = (await redis.xrevrange(key, '+', '-', 'COUNT', count)) as [string, string[]][];
  return raw
    .map(([id, fields]) => decodeEntry(id, fields))
    .filter((entry): entry is StreamEntry => entry !== undefined);
}
