import { defineConfig } from 'vitest/config';

// The long suite (`npm run test:e2e`): *.e2e.test.ts only, with the same private
// redis-server as the default suite (inject('redisUrl')).
export default defineConfig({
  test: {
    include: ['**/*.e2e.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
