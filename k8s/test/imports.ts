// Follows the runtime imports of a TypeScript entry point through the sources, the way the
// compiled dist/ will load them, to see which npm packages the image must carry.
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';

// `import type` and `export type` vanish at compile time; everything else is loaded,
// including `import { type X } from` (verbatimModuleSyntax keeps the statement).
const STATIC = /(?:^|[\n;])\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
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
        if (specifier.startsWith('.')) {
          const target = resolve(dirname(file), specifier);
          if (!existsSync(target)) throw new Error(`${file} imports ${specifier}, which does not exist`);
          if (/\.[cm]?[jt]s$/.test(target)) visit(target);
        } else if (!isBuiltin(specifier)) packages.add(packageName(specifier));
      }
    }
  };
  visit(resolve(entry));
  return { files: [...files], packages: [...packages].sort() };
}
