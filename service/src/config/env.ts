// Declarative environment variables: each knob is declared once, with its default and a
// line of documentation, and parsed with a clear error. The README's configuration table
// is checked against these declarations.

export interface EnvVar<T> {
  readonly doc: string;
  /** The default as an operator would write it in the environment; undefined = none. */
  readonly defaultText: string | undefined;
  read(raw: string | undefined, name: string): T;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function variable<T>(doc: string, defaultText: string | undefined, parse: (raw: string, name: string) => T): EnvVar<T> {
  return {
    doc,
    defaultText,
    read(raw, name) {
      const text = raw === undefined || raw === '' ? defaultText : raw;
      if (text === undefined) throw new Error(`${name} is required`);
      return parse(text, name);
    },
  };
}

/** Wraps a declaration so that leaving the variable unset yields undefined. */
export function optional<T>(declared: EnvVar<T>): EnvVar<T | undefined> {
  return {
    doc: declared.doc,
    defaultText: undefined,
    read: (raw, name) => (raw === undefined || raw === '' ? undefined : declared.read(raw, name)),
  };
}

export function int(doc: string, fallback?: number, range: { min?: number; max?: number } = {}): EnvVar<number> {
  return variable(doc, fallback === undefined ? undefined : String(fallback), (raw, name) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`${name} must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (range.min !== undefined && value < range.min) throw new Error(`${name} must be ≥ ${range.min}, got ${value}`);
    if (range.max !== undefined && value > range.max) throw new Error(`${name} must be ≤ ${range.max}, got ${value}`);
    return value;
  });
}

export function str(doc: string, fallback?: string, pattern?: RegExp): EnvVar<string> {
  return variable(doc, fallback, (raw, name) => {
    if (pattern !== undefined && !pattern.test(raw))
      throw new Error(`${name} does not match ${String(pattern)}: "${raw}"`);
    return raw;
  });
}

export function oneOf<const T extends string>(doc: string, fallback: T, values: readonly T[]): EnvVar<T> {
  return variable(`${doc} (${values.join(' | ')})`, fallback, (raw, name) => {
    if (!(values as readonly string[]).includes(raw))
      throw new Error(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  });
}

export function bool(doc: string, fallback: boolean): EnvVar<boolean> {
  return variable(doc, String(fallback), (raw, name) => {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`${name} must be true or false, got "${raw}"`);
  });
}

export function list(doc: string, fallback = ''): EnvVar<string[]> {
  return variable(doc, fallback, (raw) =>
    raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
}

export type EnvSpec = Record<string, EnvVar<unknown>>;
export type EnvValues<S extends EnvSpec> = { [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/** Parses every declared variable, reporting all problems at once. */
export function readEnv<S extends EnvSpec>(spec: S, env: Readonly<Record<string, string | undefined>>): EnvValues<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, declared] of Object.entries(spec)) {
    try {
      out[name] = declared.read(env[name], name);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as EnvValues<S>;
}
