// The commands the runbooks (docs/runbooks/*.md) tell on-call to type, as written: every
// `<tool> ...` in a code span or a ```sh block, from the tool's name on (a redis-cli command
// is usually the tail of a `kubectl exec`). The runbook test checks them all against the
// design; the drills run a page's read-only ones during the incident it is for.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const runbookDir = join(import.meta.dirname, '../../../docs/runbooks');

export const runbookPages = (): string[] => readdirSync(runbookDir).filter((f) => f.endsWith('.md'));

export const runbookText = (page: string): string => readFileSync(join(runbookDir, page), 'utf8');

/** Every `tool` command of the given pages (all of them by default), per page. */
export function runbookCommands(tool: string, pages = runbookPages()): { page: string; command: string }[] {
  return pages.flatMap((page) => {
    const text = runbookText(page);
    const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n'));
    return [...spans, ...blocks].flatMap((line) => {
      const at = line.indexOf(`${tool} `);
      return at === -1 ? [] : [{ page, command: line.slice(at).trim() }];
    });
  });
}
