import { defineConfig } from 'vitest/config';

// The long suite: tests that drive real external programs (Prometheus, Chromium, a
// kube-apiserver). Same setup as vitest.config.ts, only *.e2e.test.ts files.
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
