// Node host of the harness (`node --import ./hooks.js main.js`): maps k6's module names to
// the stand-ins in modules/ and gives the script its __ENV.
/* global process, URL */
import { registerHooks } from 'node:module';

const stubs = {
  k6: 'k6.js',
  'k6/http': 'http.js',
  'k6/execution': 'execution.js',
  'k6/metrics': 'metrics.js',
  'k6/x/sse': 'sse.js',
};

registerHooks({
  resolve(specifier, context, nextResolve) {
    const stub = stubs[specifier];
    if (stub === undefined) return nextResolve(specifier, context);
    return { url: new URL(`./modules/${stub}`, import.meta.url).href, shortCircuit: true };
  },
});

globalThis.__ENV = { ...process.env };
