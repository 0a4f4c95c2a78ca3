import { defineConfig } from 'vitest/config';

// One Vitest project per package (each keeps its own config next to its code), and one for the
// repository's own checks.
export default defineConfig({
  test: {
    projects: [
      'web/vitest.config.ts',
      'sync-server/vitest.config.ts',
      // The server's suites once more on a real PostgreSQL, and the sync property test through two
      // server processes on it behind a proxy.
      'sync-server/vitest.pg.config.ts',
      'sync-server/vitest.cluster.config.ts',
      // Checks of the repository itself (e.g. nothing refers to a path outside the clone).
      { test: { name: 'repo', include: ['scripts/**/*.test.mjs'], environment: 'node' } },
    ],
  },
});
