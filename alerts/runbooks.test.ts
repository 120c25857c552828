// The runbooks' diagnostic commands, checked against this design rather than trusted: every
// redis-cli command runs on a real Redis holding per-pod consumer groups as the service
// creates them, and every kubectl command names the bundle's namespace and objects.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { groupName } from '#contract';
import { runbookCommands } from '#test-support/runbook-commands';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';

const root = join(import.meta.dirname, '..');
const commands = (tool: string) => runbookCommands(tool);

// The bundle as `kubectl apply -k k8s` installs it.
const kustomization = parse(readFileSync(join(root, 'k8s/base/kustomization.yaml'), 'utf8')) as { namespace: string };
const manifests = (function read(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? read(join(dir, entry.name))
      : entry.name.endsWith('.yaml')
        ? [readFileSync(join(dir, entry.name), 'utf8')]
        : [],
  );
})(join(root, 'k8s/base'));
const objectNames = new Set(
  manifests.flatMap((m) =>
    parseAllDocuments(m).map((d) => (d.toJS() as { metadata?: { name?: string } } | null)?.metadata?.name ?? ''),
  ),
);

const stream = 'trayb:events:realtime';
const pod = 'realtime-6d5f7-x2k9q';
const group = groupName('realtime-consumers', pod);

describe('the runbooks', () => {
  let server: ThrowawayRedis;
  let redis: Redis;

  beforeAll(async () => {
    // A stuck instance as the service leaves it: its own group, entries read and never acknowledged.
    server = await startThrowawayRedis();
    redis = new Redis(server.url, { protocol: 2 });
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    for (let i = 0; i < 5; i++) await redis.xadd(stream, '*', 'event', 'match:updated', 'payload', '{}');
    await redis.xreadgroup('GROUP', group, pod, 'COUNT', 3, 'STREAMS', stream, '>');
    await redis.hset('metrics:sse', 'connections', 2, 'disconnects', 1, 'dropped', 0);
  });
  afterAll(async () => {
    await redis.quit();
    await server.stop();
  });

  it('run every redis-cli command without an error against per-pod consumer groups', async () => {
    const run = commands('redis-cli').filter((c) => !c.command.startsWith('redis-cli -'));
    expect(run.length).toBeGreaterThan(8);
    for (const { page, command } of run) {
      const args = command
        .replace(/^redis-cli /, '')
        .replace(/\s*\|.*$/, '') // a pipe into grep filters the output on the operator's side
        .replaceAll('<group>', group)
        .replaceAll('realtime-consumers:<pod>', group)
        .split(/\s+/);
      const [name, ...rest] = args;
      // XGROUP DESTROY would remove the group the other commands read.
      if (name === 'XGROUP') continue;
      await expect(redis.call(name ?? '', ...rest), `${page}: ${command}`).resolves.toBeDefined();
    }
  });

  it("show the stuck group's pending entries with XPENDING on the pod's group, where the bare prefix answers NOGROUP", async () => {
    expect(commands('redis-cli').some((c) => c.command.includes(`XPENDING ${stream} <group>`))).toBe(true);
    const summary = (await redis.call('XPENDING', stream, group)) as [number, string, string, [string, string][]];
    expect(summary[0]).toBe(3);
    expect(summary[3]).toEqual([[pod, '3']]);
    await expect(redis.call('XPENDING', stream, 'realtime-consumers')).rejects.toThrow(/NOGROUP/);
    for (const { page, command } of commands('redis-cli'))
      expect(command, page).not.toMatch(/realtime-consumers(\s|$)/);
  });

  it("name the bundle's namespace and objects in every kubectl command", () => {
    // `kubectl apply -k k8s` is how the bundle is installed, not a diagnostic.
    const kubectl = commands('kubectl').filter((c) => !c.command.startsWith('kubectl apply'));
    expect(kubectl.length).toBeGreaterThan(10);
    for (const { page, command } of kubectl) {
      expect(command, `${page}: ${command}`).toContain(`-n ${kustomization.namespace} `);
      const named = [
        ...command.matchAll(/\b(?:deploy|deployment|statefulset|lease|endpoints|srp)[/ ]([a-z0-9][a-z0-9-]*)/g),
        // A pod by name; `exec deploy/<name>` is matched above.
        ...command.matchAll(/\bexec (?:-it )?([a-z0-9][a-z0-9-]*)(?=\s)/g),
        ...command.matchAll(/serviceaccount:[a-z0-9-]+:([a-z0-9-]+)/g),
      ].map((m) => m[1] ?? '');
      for (const name of named) {
        // A StatefulSet's pods are named <statefulset>-<ordinal>.
        const object = name.replace(/-\d+$/, '');
        expect(objectNames.has(object), `${page}: ${command} names ${name}`).toBe(true);
      }
      for (const [, key, value] of command.matchAll(/(app\.kubernetes\.io\/[a-z-]+)=([a-z-]+)/g))
        expect(
          manifests.some((m) => m.includes(`${key}: ${value}`)),
          `${page}: ${key}=${value}`,
        ).toBe(true);
    }
  });
});
