import { defineConfig } from 'vitest/config';

// Suites against a real kube-apiserver (the harness in service/test/support/kube):
// `npm run test:k8s`. The global setup starts one apiserver (building it on the first run on
// a machine) and every *.k8s.test.ts shares it through its own namespaces.
export default defineConfig({
  test: {
    include: ['**/*.k8s.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    globalSetup: ['service/test/support/kube/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One shared apiserver on a 2-core machine: files run one after another.
    fileParallelism: false,
  },
});
