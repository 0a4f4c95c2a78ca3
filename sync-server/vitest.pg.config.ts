import { defineProject } from 'vitest/config';

// The server's suites again on a real PostgreSQL (TEST_DB=postgres, see src/test-utils.ts): the same
// test files, not copies. test/postgres.ts starts the server.
// Moving (issue 17): the repositories' own tests now; the route suites once every service is on
// repositories.
export default defineProject({
  test: {
    name: 'sync-server-pg',
    environment: 'node',
    include: ['src/repositories/**/*.test.ts', 'src/services/sync.pg.test.ts'],
    env: { TEST_DB: 'postgres', SYNC_PROPERTY_RUNS: '100' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
