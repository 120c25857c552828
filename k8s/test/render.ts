// Renders the kustomizations under k8s/ exactly as `kubectl apply -k` would build them
// (kubectl's built-in kustomize, or a standalone `kustomize` when kubectl is missing), from
// a scratch copy of k8s/: a test may rewrite files there, and a Component is built from a
// wrapper kustomization beside the copy. A file missing from k8s/ fails the render with
// kustomize's message naming it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const k8sDir = join(repoRoot, 'k8s');

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** kubectl's kustomize (what `kubectl apply -k` runs), else a standalone kustomize. */
export function kustomizeCommand(): { command: string; args: string[] } {
  if (onPath('kubectl')) return { command: 'kubectl', args: ['kustomize'] };
  const local = join(repoRoot, '.cache', 'bin', 'kustomize');
  if (existsSync(local)) return { command: local, args: ['build'] };
  if (onPath('kustomize')) return { command: 'kustomize', args: ['build'] };
  throw new Error('Neither kubectl nor kustomize is installed; .ci/run shows how to install kustomize v5.5.0 with Go.');
}

export interface Workspace {
  /** The scratch copy of k8s/. */
  readonly dir: string;
  render(relative: string): KubeObject[];
  /** A Component cannot be built alone: builds it on top of the default stack, in its namespace, as a user adds it. */
  renderComponent(relative: string): KubeObject[];
  dispose(): void;
}

export function workspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'trayb-k8s-'));
  const dir = join(root, 'k8s');
  cpSync(k8sDir, dir, { recursive: true });
  const { command, args } = kustomizeCommand();
  const render = (relative: string): KubeObject[] => {
    const out = execFileSync(command, [...args, join(dir, relative)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseAllDocuments(out)
      .map((document) => document.toJSON() as KubeObject)
      .filter((object) => object !== null);
  };
  return {
    dir,
    render,
    renderComponent(relative) {
      // Beside k8s/, not inside it: kustomize refuses a kustomization that contains its own base.
      const wrapper = `component-check-${relative.replaceAll('/', '-')}`;
      // A component the default stack already includes (base/redis) goes onto the application
      // alone; the others onto the default stack.
      const stack = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { components?: string[] };
      const onto = (stack.components ?? []).includes(relative) ? '../k8s/base' : '../k8s';
      mkdirSync(join(root, wrapper), { recursive: true });
      const kustomization = {
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        namespace: 'trayb-realtime',
        resources: [onto],
        components: [`../k8s/${relative}`],
      };
      writeFileSync(join(root, wrapper, 'kustomization.yaml'), JSON.stringify(kustomization));
      return render(join('..', wrapper));
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
