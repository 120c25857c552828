import { defineConfig } from 'vitest/config';

// The default suite: unit tests and integration tests against a private redis-server.
// Suites that need Chromium, Prometheus or a kube-apiserver are named *.e2e.test.ts and
// run with `npm run test:e2e` (vitest.e2e.config.ts).
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', '**/*.e2e.test.ts'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
