// The operations notes' verification checklist, typed as the notes say, against `npm run dev`:
// start the backend, curl the stream (401, and the answer says how to get a token), see a
// match update arrive with its id and JSON, resume with Last-Event-ID, read metrics:sse, and
// where the notes' XPENDING on a shared group has nothing to show, `npm run status` shows this
// instance's group. A real process on a free port, on the suite's Redis, its own stream key.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SSE_METRICS_HASH, groupName } from '#contract';
import { runStatusCommand } from '#test-support/entry-processes';
import { freePort } from '#test-support/free-port';
import { eventually } from '#test-support/instance';
import { SseTestClient } from '#test-support/sse-client';
import type { StatusReport } from '../src/status/index.ts';

const repoRoot = join(import.meta.dirname, '../..');
const id = randomUUID().slice(0, 8);
const env = {
  REDIS_URL: inject('redisUrl'),
  REALTIME_STREAM_KEY: `test:checklist-${id}:events`,
  MATCHES_KEY: `test:checklist-${id}:matches`,
  POD_NAME: `checklist-${id}`,
};
const redis = new Redis(inject('redisUrl'), { protocol: 2 });
let base: string;
let dev: ReturnType<typeof spawn>;
let output = '';

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Its own process group, so the test ends npm and the node it started together.
  dev = spawn('npm', ['run', 'dev'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, PORT: String(port), METRICS_PORT: String(await freePort()) },
  });
  dev.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
    `npm run dev to be ready:\n${output}`,
    60_000,
  );
}, 90_000);
afterAll(async () => {
  await redis.quit();
  if (dev?.pid === undefined || dev.exitCode !== null) return;
  const exited = once(dev, 'exit');
  process.kill(-dev.pid, 'SIGTERM');
  await exited;
});

describe("the operations notes' checklist against npm run dev", () => {
  it('runs step by step as written, with the token the 401 points to and npm run status for XPENDING', async () => {
    // 1. curl -H "Accept: text/event-stream" http://localhost:4001/api/realtime/stream
    const refused = await fetch(`${base}/api/realtime/stream`, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(401);
    const { message } = (await refused.json()) as { message: string };
    const mint = /curl -s '([^']+)'/.exec(message)?.[1];
    expect(mint, message).toBeDefined();
    const { token } = (await (await fetch(mint ?? '')).json()) as { token: string };

    const connections = async () => Number((await redis.hgetall(SSE_METRICS_HASH)).connections ?? 0);
    const connectionsBefore = await connections();

    // 1. Trigger a match update: the stream shows it with its id and JSON payload.
    const client = await SseTestClient.open(base, { token });
    const write = (method: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await write('POST', '/api/matches', { id: `m-${id}`, title: 'Falcons vs Owls' })).status).toBe(201);
    expect((await write('PATCH', `/api/matches/m-${id}`, { status: 'live' })).status).toBe(200);
    await client.waitForEvents(2);
    const [created, updated] = client.streamEvents;
    expect(updated?.event).toBe('match:updated');
    expect(updated?.id).toMatch(/^\d+-\d+$/);
    expect(JSON.parse(updated?.data ?? '{}')).toMatchObject({ matchId: `m-${id}`, action: 'match:updated' });
    client.close();

    // 2. Reconnect with Last-Event-ID: what followed replays from the stream.
    const resumed = await SseTestClient.open(base, { token, lastEventId: created?.id ?? '' });
    await resumed.waitForEvents(1);
    expect(resumed.ids[0]).toBe(updated?.id);
    resumed.close();

    // 3. redis-cli HGETALL metrics:sse: the counters include this instance's two streams.
    await eventually(async () => (await connections()) >= connectionsBefore + 2, 'metrics:sse to count both');

    // 3. XPENDING per instance: npm run status names the group and its pod.
    const status = await runStatusCommand(['--json'], env);
    expect(status.code, status.stderr || status.stdout).toBe(0);
    const report = JSON.parse(status.stdout) as Extract<StatusReport, { redis: 'ok' }>;
    expect(report.groups.map((g) => [g.group, g.pod])).toEqual([
      [groupName('realtime-consumers', env.POD_NAME), env.POD_NAME],
    ]);
    // 4. XLEN stays under MAXLEN.
    expect(report.stream).toMatchObject({ length: 2, maxLen: 5000 });
  }, 60_000);
});
