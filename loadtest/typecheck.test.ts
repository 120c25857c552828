// k6 cannot run here, so loadtest/sse.js is right by construction: type-checked against
// @types/k6 and the xk6-sse declaration (npm run typecheck). This proves that check bites:
// snippets with a wrong call into k6 or the extension fail it, a right one passes, and
// sse.js itself passes.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const configPath = fileURLToPath(new URL('./tsconfig.json', import.meta.url));
const probePath = fileURLToPath(new URL('./typecheck-probe.js', import.meta.url));

/** Diagnostics of the loadtest project, plus a probe file that exists only in memory. */
function check(probe?: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (config === undefined) throw new Error(`cannot read ${configPath}`);
  const host = ts.createCompilerHost(config.options);
  if (probe !== undefined) {
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const readFile = host.readFile.bind(host);
    host.fileExists = (name) => name === probePath || fileExists(name);
    host.readFile = (name) => (name === probePath ? probe : readFile(name));
    host.getSourceFile = (name, language, ...rest) =>
      name === probePath ? ts.createSourceFile(name, probe, language) : getSourceFile(name, language, ...rest);
  }
  const program = ts.createProgram(
    probe === undefined ? config.fileNames : [...config.fileNames, probePath],
    config.options,
    host,
  );
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (diagnostic) =>
        `${diagnostic.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
    );
}

// Every import is used, so an unused-import error can never stand in for the one expected.
const header = `import sse from 'k6/x/sse';\nimport http from 'k6/http';\nimport { Trend } from 'k6/metrics';\nexport const modules = [sse, http, Trend];\n`;

describe('the type check of the k6 script', () => {
  it('passes loadtest/sse.js and its modules as they are, and a correct use of xk6-sse', () => {
    expect(check()).toEqual([]);
    const right = `${header}
export default function () {
  const trend = new Trend('t', true);
  const response = sse.open('http://x/stream', { headers: { Authorization: 'Bearer t' }, tags: { role: 'fast' } }, (client) => {
    client.on('event', (event) => { trend.add(event.data.length); if (event.id === '1-0') client.close(); });
    client.on('error', (error) => console.error(error.error()));
  });
  http.post('http://x/events', JSON.stringify({ status: response.status }));
}
`;
    expect(check(right)).toEqual([]);
  });

  const wrong: [string, string, RegExp][] = [
    [
      'an event field xk6-sse does not have',
      `sse.open('u', null, (c) => c.on('event', (e) => e.event));`,
      /Property 'event' does not exist on type 'SseEvent'/,
    ],
    [
      'sse.open without its callback',
      `sse.open('u', { headers: {} });`,
      /'headers' does not exist in type '\(client: SseClient\) => void'/,
    ],
    [
      'a handler for an event xk6-sse never emits',
      `sse.open('u', (c) => c.on('message', () => undefined));`,
      /No overload matches this call/,
    ],
    [
      'a header value that is not a string',
      `sse.open('u', { headers: { 'X-N': 1 } }, () => undefined);`,
      /not assignable to type 'string'/,
    ],
    ['a k6/http call with a wrong argument', `http.get(42);`, /not assignable to parameter of type/],
    ['a Trend fed a string', `new Trend('t').add('slow');`, /not assignable to parameter of type/],
  ];
  for (const [what, line, error] of wrong) {
    it(`rejects ${what}`, () => {
      const errors = check(`${header}export function probe() {\n  ${line}\n}\n`);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(error);
      expect(errors.every((message) => message.startsWith(probePath))).toBe(true);
    });
  }
});
