import { defineConfig } from 'vitest/config';

// Incident drills (`npm run test:drills`, drills/): each file is one whole incident on real
// parts (kube-apiserver with kube-controller-manager, the service and controller processes,
// Redis, Prometheus with the generated rules, resuming SSE clients). One world at a time on a
// 2-core machine: files run one after another, with the generous deadlines incidents need.
export default defineConfig({
  test: {
    include: ['drills/**/*.drill.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['drills/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
