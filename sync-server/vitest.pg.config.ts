import { defineProject } from 'vitest/config';

// The sync suites again with push and pull on a real PostgreSQL (SYNC_DB=postgres, see
// src/sync-test-utils.ts): the same test files, not copies. test/postgres.ts starts the server.
// Not yet review-sync.test.ts: 7 of its 8 tests pass on PostgreSQL, but the supervisor's image test
// reads records through the blobs service, which is still on SQLite.
export default defineProject({
  test: {
    name: 'sync-server-pg',
    environment: 'node',
    include: [
      'src/routes/sync.test.ts',
      'src/routes/sync.echo.test.ts',
      'src/routes/sync.remaining.test.ts',
      'src/sync.property.test.ts',
      'src/repositories/sync.repository.test.ts',
    ],
    env: { SYNC_DB: 'postgres', SYNC_PROPERTY_RUNS: '100' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
