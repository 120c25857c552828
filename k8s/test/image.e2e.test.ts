// The image's stages, run as plain commands (no Docker engine here): the deps stage's
// `npm ci --omit=dev` in an empty folder, the build stage's `npm run build`, then the
// runtime stage's layout (/app = package.json + node_modules + dist) started with the
// image's command against a real Redis, probed on the paths the Deployment uses.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '#test-support/free-port';
import { copySources, execForm, instructions, readDockerfile } from './dockerfile.ts';
import { onlyContainer, workload } from './manifests.ts';
import { repoRoot, workspace } from './render.ts';

const stages = readDockerfile(join(repoRoot, 'Dockerfile'));
const runtime = stages.at(-1)!;
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean }>;
};

/** The `npm ...` commands of a stage's RUN lines, in order. */
function npmCommands(stageName: string): string[][] {
  const stage = stages.find((s) => s.name === stageName);
  return (stage?.instructions ?? [])
    .filter((i) => i.keyword === 'RUN')
    .flatMap((i) => i.args.split('&&').map((part) => part.trim()))
    .filter((command) => command.startsWith('npm ') && !command.startsWith('npm cache'))
    .map((command) => command.split(' '));
}

const app = mkdtempSync(join(tmpdir(), 'trayb-image-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));

describe('the image stages, run as plain npm commands', () => {
  beforeAll(() => {
    // deps stage: COPY package.json package-lock.json, then its npm ci.
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, file), join(app, file));
    for (const [command, ...args] of npmCommands('deps')) {
      execFileSync(command!, [...args, '--prefer-offline'], { cwd: app, stdio: 'pipe' });
    }
    // build stage: npm run build (same sources, same tsconfig), then COPY --from=build /app/dist.
    for (const [command, ...args] of npmCommands('build').filter((c) => c[1] !== 'ci')) {
      execFileSync(command!, args, { cwd: repoRoot, stdio: 'pipe' });
    }
    cpSync(join(repoRoot, 'dist'), join(app, 'dist'), { recursive: true });
  });

  it('the deps stage installs the production dependency tree and nothing dev-only (not even the `node` runtime package)', () => {
    expect(npmCommands('deps').length).toBeGreaterThan(0);
    for (const name of Object.keys(pkg.dependencies))
      expect(existsSync(join(app, 'node_modules', name)), name).toBe(true);
    // The lockfile marks packages only devDependencies need; @types/node, say, is not one
    // of them when a production dependency depends on it.
    const devOnly = Object.entries(lock.packages).filter(
      ([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path),
    );
    expect(devOnly.map(([path]) => path)).toContain('node_modules/node');
    for (const [path] of devOnly) expect(existsSync(join(app, path)), path).toBe(false);
  });

  it('the runtime stage copies exactly package.json, the production node_modules and dist', () => {
    const copies = instructions(runtime, 'COPY').map(copySources);
    expect(
      copies.flatMap((c) => c.sources.map((source) => `${c.from ?? 'context'}:${basename(source)}`)).sort(),
    ).toEqual(['build:dist', 'context:package.json', 'deps:node_modules']);
  });

  const command = execForm(instructions(runtime, 'CMD')[0]?.args ?? '') ?? [];
  const imageEnv = () =>
    Object.fromEntries(
      instructions(runtime, 'ENV')
        .flatMap((i) => i.args.split(' '))
        .map((pair) => pair.split('=') as [string, string]),
    );

  function renderedContainer(name: string) {
    const ws = workspace();
    try {
      return onlyContainer(workload(ws.render('.'), name));
    } finally {
      ws.dispose();
    }
  }

  /** Starts `node <entry>` in the runtime layout with only the image's ENV plus `env`. */
  function start(args: string[], env: Record<string, string>) {
    const child: ChildProcess = spawn(process.execPath, args, {
      cwd: app,
      stdio: ['ignore', 'pipe', 'pipe'],
      // No KUBECONFIG, and a HOME without ~/.kube: nothing from this machine leaks in.
      env: { ...imageEnv(), PATH: process.env.PATH, HOME: app, ...env },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const status = async (url: string) =>
      fetch(url).then(
        (r) => r.status,
        () => 0,
      );
    return {
      output: () => output,
      exited: exited.then(([code]) => code),
      status,
      /** Polls until the URL answers 200; gives up when the process dies or after a generous bound. */
      async until200(url: string) {
        for (let attempt = 0; attempt < 300 && child.exitCode === null; attempt += 1) {
          if ((await status(url)) === 200) return 200;
          await new Promise((r) => setTimeout(r, 100));
        }
        return status(url);
      },
      async stop() {
        child.kill('SIGTERM');
        const [code] = await exited;
        return code;
      },
    };
  }

  it(`the image command (${command.join(' ')}) serves the Deployment's probe paths and metrics, and exits cleanly on SIGTERM`, async () => {
    expect(existsSync(join(app, command.at(-1) ?? 'dist/main.js'))).toBe(true);
    const container = renderedContainer('trayb-realtime');
    const probePaths = [container.startupProbe, container.readinessProbe, container.livenessProbe]
      .map((p) => p?.httpGet?.path)
      .filter((p) => p !== undefined);
    expect(probePaths.length).toBe(3);

    const [port, metricsPort] = [await freePort(), await freePort()];
    const service = start(command.slice(1), {
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      POD_NAME: `image-check-${process.pid}`,
      REDIS_URL: inject('redisUrl'),
      REALTIME_STREAM_KEY: `test:image-check:${process.pid}`,
      AUTH_JWT_SECRET: 'test-only-secret-for-the-image-check',
    });
    try {
      for (const path of probePaths)
        expect(await service.until200(`http://127.0.0.1:${port}${path}`), `${path}\n${service.output()}`).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('# TYPE');
      expect(await service.status(`http://127.0.0.1:${port}/metrics`), 'metrics stay off the public port').not.toBe(
        200,
      );
    } finally {
      expect(await service.stop(), service.output()).toBe(0);
    }
  });

  it('the controller entry the manifests start runs from the same layout (observe-only without a cluster) and exits cleanly on SIGTERM', async () => {
    const container = renderedContainer('trayb-realtime-controller');
    const [executable, ...args] = container.command ?? [];
    expect(executable).toBe('node');
    expect(existsSync(join(app, args[0] ?? ''))).toBe(true);
    const metricsPort = await freePort();
    const controller = start(args, {
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      POD_NAME: `image-check-controller-${process.pid}`,
      REDIS_URL: inject('redisUrl'),
      REALTIME_STREAM_KEY: `test:image-check:${process.pid}`,
    });
    try {
      expect(await controller.until200(`http://127.0.0.1:${metricsPort}/metrics`), controller.output()).toBe(200);
    } finally {
      expect(await controller.stop(), controller.output()).toBe(0);
    }
  });

  it('the status command runs from the same layout, as `kubectl exec` would start it', async () => {
    const status = start(['dist/status/main.js', '--json'], {
      REDIS_URL: inject('redisUrl'),
      REALTIME_STREAM_KEY: `test:image-check-status:${process.pid}`,
    });
    const code = await status.exited;
    expect(code, status.output()).toBe(0);
    expect(JSON.parse(status.output())).toMatchObject({ redis: 'ok', groups: [] });
  });
});
