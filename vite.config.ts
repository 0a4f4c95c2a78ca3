import { defineConfig } from 'vitest/config';

// One Vitest project per package (each keeps its own config next to its code), and one for the
// repository's own checks.
export default defineConfig({
  test: {
    projects: [
      'web/vitest.config.ts',
      'sync-server/vitest.config.ts',
      // The sync suites once more on a real PostgreSQL (push and pull's repository).
      'sync-server/vitest.pg.config.ts',
      // Checks of the repository itself (e.g. nothing refers to a path outside the clone).
      { test: { name: 'repo', include: ['scripts/**/*.test.mjs'], environment: 'node' } },
    ],
  },
});
