import { defineConfig } from 'vitest/config';

// The long suite (`npm run test:e2e`): tests that drive real Chromium, Prometheus or a
// kube-apiserver, named *.e2e.test.ts. Same private redis-server as the default suite.
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A browser on a busy machine needs more than the default second to show a change.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
