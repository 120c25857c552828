// The container image, checked without a Docker engine: the Dockerfile's stages, the build
// context it gets, and that the entry points the manifests start exist and need only
// production dependencies. image.e2e.test.ts runs the stages' commands for real.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copySources, dockerignore, execForm, instructions, readDockerfile, type Stage } from './dockerfile.ts';
import { runtimeClosure } from './imports.ts';
import { SERVICE_NODE_FLAGS } from '../../service/src/node-flags.ts';
import { onlyContainer, workload } from './manifests.ts';
import { repoRoot, workspace } from './render.ts';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version: string; dev?: boolean; hasInstallScript?: boolean }>;
};
const nodeVersion = lock.packages['node_modules/node']?.version ?? '';
const stages = readDockerfile(join(repoRoot, 'Dockerfile'));
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`no stage ${name} in the Dockerfile`);
  return found;
};
const runtime = stages.at(-1)!;
const runs = (s: Stage) => instructions(s, 'RUN').map((i) => i.args);

const ws = workspace();
afterAll(() => ws.dispose());
const stack = ws.render('.');

describe('the Dockerfile', () => {
  it(`builds every stage on the same pinned Node release the tests run on (node ${nodeVersion})`, () => {
    expect(nodeVersion).toMatch(/^24\.\d+\.\d+$/);
    for (const s of stages)
      expect(s.image, `stage ${s.name}`).toMatch(
        new RegExp(`^node:${nodeVersion.replaceAll('.', '\\.')}-[a-z]+(-slim)?$`),
      );
  });

  it('installs production dependencies only, in their own stage, from the lockfile', () => {
    const install = runs(stage('deps')).join(' && ');
    expect(install).toMatch(/\bnpm ci\b[^&]*--omit=dev/);
    const copies = instructions(runtime, 'COPY').map(copySources);
    expect(copies.find((c) => c.destination.includes('node_modules'))?.from).toBe('deps');
    expect(copies.filter((c) => c.from === 'build').flatMap((c) => c.sources)).toEqual(['/app/dist']);
  });

  it('can skip install scripts in the deps stage: no production dependency has one', () => {
    expect(runs(stage('deps')).join(' ')).toContain('--ignore-scripts');
    const withScripts = Object.entries(lock.packages).filter(
      ([, entry]) => entry.hasInstallScript === true && entry.dev !== true,
    );
    expect(withScripts.map(([path]) => path)).toEqual([]);
  });

  it('compiles with `npm run build` into dist/, mirroring service/src', () => {
    expect(runs(stage('build'))).toContain('npm run build');
    const build = readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8');
    expect(build).toMatch(/"rootDir":\s*"service\/src"/);
    expect(build).toMatch(/"outDir":\s*"dist"/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      type: string;
      scripts: { build: string };
    };
    expect(pkg.type).toBe('module');
    expect(pkg.scripts.build.startsWith('tsc -p tsconfig.build.json')).toBe(true);
  });

  it('starts the service by default, as a numeric non-root user the pods also run as', () => {
    expect(instructions(runtime, 'ENTRYPOINT')).toEqual([]);
    const cmd = instructions(runtime, 'CMD');
    expect(cmd.map((i) => execForm(i.args))).toEqual([['node', ...SERVICE_NODE_FLAGS, 'dist/main.js']]);
    const user = instructions(runtime, 'USER').at(-1)?.args ?? '';
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const [uid, gid] = user.split(':').map(Number);
    for (const name of ['trayb-realtime', 'trayb-realtime-controller']) {
      const security = workload(stack, name).pod.securityContext as { runAsUser?: number; runAsGroup?: number };
      expect([security.runAsUser, security.runAsGroup], name).toEqual([uid, gid]);
    }
  });

  it('exposes the ports the manifests use', () => {
    const exposed = instructions(runtime, 'EXPOSE').flatMap((i) => i.args.split(' ').map(Number));
    for (const name of ['trayb-realtime', 'trayb-realtime-controller']) {
      for (const port of onlyContainer(workload(stack, name)).ports ?? [])
        expect(exposed, name).toContain(port.containerPort);
    }
  });

  it('carries the OCI labels, with the package version as the default version', () => {
    const labels = instructions(runtime, 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of ['title', 'description', 'source', 'version', 'revision', 'created', 'licenses'])
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    const version = instructions(runtime, 'ARG').find((i) => i.args.startsWith('VERSION='));
    expect(version?.args).toBe(`VERSION=${pkg.version}`);
  });
});

describe('the build context (.dockerignore)', () => {
  const ignored = dockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));

  it('holds every file the Dockerfile copies from the context', () => {
    const sources = stages
      .flatMap((s) => instructions(s, 'COPY').map(copySources))
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(repoRoot, source)), source).toBe(true);
      expect(ignored(source), source).toBe(false);
    }
    expect(ignored('service/src/redis/index.ts')).toBe(false);
  });

  it('keeps out history, local dependencies, builds, tests and anything secret-looking', () => {
    for (const path of [
      '.git/config',
      'node_modules/fastify/package.json',
      'dist/main.js',
      '.env',
      '.env.local',
      'service/src/bus/redis.test.ts',
      'service/test/support/global-setup.ts',
      'k8s/kustomization.yaml',
      '.cache/x',
      'id_rsa',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
  });
});

describe('the entry points the manifests start', () => {
  const entries = [
    { dist: 'dist/main.js', source: 'service/src/main.ts' },
    { dist: 'dist/controller/main.js', source: 'service/src/controller/main.ts' },
    // Not started by a manifest: the on-call command run with `kubectl exec` in either pod.
    { dist: 'dist/status/main.js', source: 'service/src/status/main.ts' },
  ];

  it('are the image default and the controller command', () => {
    expect(execForm(instructions(runtime, 'CMD')[0]?.args ?? '')?.at(-1)).toBe(entries[0]?.dist);
    expect(onlyContainer(workload(stack, 'trayb-realtime-controller')).command?.[1]).toBe(entries[1]?.dist);
  });

  for (const entry of entries) {
    it(`${entry.dist} comes from ${entry.source} and loads only production dependencies`, () => {
      const { packages } = runtimeClosure(join(repoRoot, entry.source));
      const devOnly = packages.filter((name) => !(name in pkg.dependencies));
      expect(devOnly, 'imported at run time but not in "dependencies" (npm ci --omit=dev leaves them out)').toEqual([]);
    });
  }

  it('the production service entry never reaches the throwaway redis-server spawner', () => {
    const { files } = runtimeClosure(join(repoRoot, entries[0]!.source));
    expect(files.filter((file) => file.endsWith('throwaway-redis.ts'))).toEqual([]);
  });
});
