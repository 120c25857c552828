import { defineConfig } from 'vitest/config';

// The bundle on a real two-node cluster with real containers (service/test/support/cluster):
// `npm run test:cluster`, as root (network namespaces, cgroups, mounts). The first run on a
// machine builds the node binaries, containerd, CoreDNS and the images (cached per version);
// .ci/run builds them before the suite so its timeouts cover only the cluster.
export default defineConfig({
  test: {
    include: ['**/*.cluster.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 600_000,
    hookTimeout: 3_600_000,
    fileParallelism: false,
  },
});
