import { defineConfig } from 'vitest/config';

// The long suite (`npm run test:e2e`): tests named *.e2e.test.ts, which crash processes,
// open thousands of connections or need external tools. Same private redis-server setup
// as the default suite, longer timeouts.
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
