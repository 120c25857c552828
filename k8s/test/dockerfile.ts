// A small reader for the Dockerfile and .dockerignore, enough for the checks in
// image.test.ts (there is no Docker engine to build with here): instructions grouped by
// stage, exec-form arguments, and the .dockerignore matching rules of the Docker CLI.
import { readFileSync } from 'node:fs';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  readonly image: string;
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const global: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending !== '' && line.trimStart().startsWith('#')) return; // comments inside a continuation
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match === null) return;
    const instruction = {
      keyword: (match[1] ?? '').toUpperCase(),
      args: (match[2] ?? '').replace(/\s+/g, ' '),
      line: startLine,
    };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      stages.push({ image: from?.[1] ?? '', name: from?.[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) global.push(instruction);
    else stages[stages.length - 1]?.instructions.push(instruction);
  });
  return stages;
}

export function readDockerfile(path: string): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** JSON exec form (`["node", "dist/main.js"]`), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}

export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** COPY/ADD sources and flags: `COPY --from=deps /app/node_modules ./node_modules`. */
export function copySources(instruction: Instruction): {
  from: string | undefined;
  sources: string[];
  destination: string;
} {
  const words = instruction.args.split(' ');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' };
}

/** `.dockerignore` as the Docker CLI applies it: last matching rule wins, `!` re-includes. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const pattern = (include ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      const source = pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replaceAll('*', '[^/]*')
                .replaceAll('?', '[^/]'),
        )
        .join('/')
        .replaceAll('.*/', '(?:.*/)?');
      return { include, regex: new RegExp(`^${source}$`) };
    });
  // A rule on a folder covers everything below it, as in the Docker CLI.
  const matches = (regex: RegExp, path: string) =>
    path.split('/').some((_, i, parts) => regex.test(parts.slice(0, i + 1).join('/')));
  return (path) => {
    let excluded = false;
    for (const rule of rules) if (matches(rule.regex, path)) excluded = !rule.include;
    return excluded;
  };
}
