import { defineProject } from 'vitest/config';

// The sync suites again with push and pull on a real PostgreSQL (SYNC_DB=postgres, see
// src/sync-test-utils.ts): the same test files, not copies. test/postgres.ts starts the server.
export default defineProject({
  test: {
    name: 'sync-server-pg',
    environment: 'node',
    include: [
      'src/routes/sync.test.ts',
      'src/sync.property.test.ts',
      'src/repositories/sync.repository.test.ts',
    ],
    env: { SYNC_DB: 'postgres', SYNC_PROPERTY_RUNS: '100' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
