// Follows the runtime imports of a TypeScript entry point through the sources, the way the
// compiled dist/ will load them, to see which npm packages the image must carry. Package
// subpath imports (`#contract`, `#test-support/*`) are followed to the files package.json maps
// them to, so a production file reaching test support shows up as that file.
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';

// `import type` and `export type` vanish at compile time; everything else is loaded,
// including `import { type X } from` (verbatimModuleSyntax keeps the statement).
const STATIC = /(?:^|[\n;])\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const repoRoot = resolve(import.meta.dirname, '..', '..');
const subpathImports =
  (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { imports?: Record<string, string> }).imports ??
  {};

/** The file package.json "imports" maps a `#` specifier to (an exact key, else a `*` pattern). */
function subpathTarget(specifier: string): string | undefined {
  const exact = subpathImports[specifier];
  if (exact !== undefined) return join(repoRoot, exact);
  for (const [key, target] of Object.entries(subpathImports)) {
    const star = key.indexOf('*');
    if (star < 0 || !specifier.startsWith(key.slice(0, star)) || !specifier.endsWith(key.slice(star + 1))) continue;
    const matched = specifier.slice(star, specifier.length - (key.length - star - 1));
    return join(repoRoot, target.replace('*', matched));
  }
  return undefined;
}

export function runtimeClosure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const pattern of [STATIC, DYNAMIC]) {
      for (const match of source.matchAll(pattern)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.') || specifier.startsWith('#')) {
          const target = specifier.startsWith('#') ? subpathTarget(specifier) : resolve(dirname(file), specifier);
          if (target === undefined)
            throw new Error(`${file} imports ${specifier}, which package.json "imports" does not map`);
          if (!existsSync(target)) throw new Error(`${file} imports ${specifier}, which does not exist`);
          if (/\.[cm]?[jt]s$/.test(target)) visit(target);
        } else if (!isBuiltin(specifier)) packages.add(packageName(specifier));
      }
    }
  };
  visit(resolve(entry));
  return { files: [...files], packages: [...packages].sort() };
}
