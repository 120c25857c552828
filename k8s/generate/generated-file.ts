// What a generated file is (its path, the source it comes from, its text) and how it is
// marked as generated: a first line naming the source and the one command that rewrites
// it. JSON has no comment syntax, so a folder of generated JSON gets a README.md that says
// the same for each file instead.
import { basename, dirname, extname } from 'node:path';

export const GENERATE_COMMAND = 'npm run generate';

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  /** The file it is derived from, relative to the repository root. */
  readonly source: string;
  /** The text, without the header line. */
  readonly content: string;
}

const COMMENT: Record<string, string> = { '.yaml': '#', '.js': '//' };

/** The file's text as committed: the header line first where the format has comments. */
export function stamped(file: GeneratedFile): string {
  const comment = COMMENT[extname(file.path)];
  if (comment === undefined) return file.content;
  return `${comment} Generated from ${file.source} by \`${GENERATE_COMMAND}\`. Do not edit by hand.\n${file.content}`;
}

/** README.md notes for the folders whose generated files cannot carry a header line. */
export function headerlessNotes(files: readonly GeneratedFile[]): { path: string; content: string }[] {
  const byFolder = new Map<string, GeneratedFile[]>();
  for (const file of files) {
    if (stamped(file) !== file.content) continue;
    byFolder.set(dirname(file.path), [...(byFolder.get(dirname(file.path)) ?? []), file]);
  }
  return [...byFolder].map(([folder, inFolder]) => {
    const formats = [...new Set(inFolder.map((file) => extname(file.path).slice(1).toUpperCase()))].join(' and ');
    return {
      path: `${folder}/README.md`,
      content: [
        '# Generated files: do not edit by hand',
        '',
        `\`${GENERATE_COMMAND}\` writes this folder:`,
        '',
        ...inFolder.map((file) => `- \`${basename(file.path)}\` from \`${file.source}\``),
        '',
        `${formats} has no comment syntax, so this note stands in for the header line naming the`,
        'source and the command that every other generated file starts with.',
        '',
      ].join('\n'),
    };
  });
}
