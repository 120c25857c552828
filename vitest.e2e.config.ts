import { defineConfig } from 'vitest/config';

// The long suite (`npm run test:e2e`): tests that drive real external programs (Prometheus,
// Chromium, the built image layout), only *.e2e.test.ts files, with the same private
// redis-server as the default suite (inject('redisUrl')).
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // A browser on a busy machine needs more than the default second to show a change.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});
