// What k6 provides globally that @types/k6 leaves out: the console (k6 prints through its
// logger). Declared here so loadtest/sse.js type-checks without Node's or the DOM's types.
declare global {
  const console: {
    log(...values: unknown[]): void;
    info(...values: unknown[]): void;
    warn(...values: unknown[]): void;
    error(...values: unknown[]): void;
    debug(...values: unknown[]): void;
  };
}

export {};
