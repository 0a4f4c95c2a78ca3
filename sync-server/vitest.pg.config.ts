import { defineProject } from 'vitest/config';

// The server's suites again on a real PostgreSQL (TEST_DB=postgres, src/test-utils.ts): the same
// test files, not copies; test/postgres.ts starts the server from Debian's binaries. Every file
// whose subject depends on the database runs here: routes, repositories, services, auth, the sync
// property test, the crash test and the several-instances test. Left to the SQLite project: what
// is SQLite's own (its connection, backups, processes sharing one file) and what never touches a
// database or already runs on both itself (protocol, static files, env, the PostgreSQL schema,
// blob stores and move tests).
export default defineProject({
  test: {
    name: 'sync-server-pg',
    environment: 'node',
    // One PostgreSQL server for the run, stopped at its end (test/postgres-global-setup.ts).
    globalSetup: ['test/postgres-global-setup.ts'],
    include: [
      'src/routes/**/*.test.ts',
      'src/repositories/**/*.test.ts',
      'src/services/scope.test.ts',
      'src/services/sync.pg.test.ts',
      'src/auth/attempt-limiter.test.ts',
      'src/auth/middleware.test.ts',
      'src/auth/rate-limit.test.ts',
      'src/auth/session.test.ts',
      'src/middleware/malformed-body.test.ts',
      'src/middleware/origin.test.ts',
      'src/app.test.ts',
      'src/fuzz.test.ts',
      'src/scope.property.test.ts',
      'src/sync.property.test.ts',
      'src/sync.crash.test.ts',
      'src/instances.proxy.test.ts',
    ],
    env: { TEST_DB: 'postgres', SYNC_PROPERTY_RUNS: '100' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
