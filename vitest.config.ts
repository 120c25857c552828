import { defineConfig } from 'vitest/config';

// The default suite: unit tests and integration tests against a private redis-server.
// Suites that need Chromium or Prometheus are named *.e2e.test.ts and run with
// `npm run test:e2e` (vitest.e2e.config.ts); suites against a real kube-apiserver are named
// *.k8s.test.ts and run with `npm run test:k8s` (vitest.k8s.config.ts); the suite on a real
// cluster with real containers is *.cluster.test.ts, `npm run test:cluster`.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      'dist/**',
      '**/*.e2e.test.ts',
      '**/*.k8s.test.ts',
      '**/*.cluster.test.ts',
      '**/*.drill.test.ts',
    ],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
