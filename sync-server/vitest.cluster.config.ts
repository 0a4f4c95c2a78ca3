import { defineProject } from 'vitest/config';

// The sync property test through two real server processes on one PostgreSQL database behind the
// loopback round-robin proxy (SYNC_PROPERTY_INSTANCES, src/sync-test-utils.ts clusterSyncWorld):
// consecutive requests of one simulated device reach different instances.
export default defineProject({
  test: {
    name: 'sync-server-cluster',
    environment: 'node',
    // One PostgreSQL server for the run, stopped at its end (test/postgres-global-setup.ts).
    globalSetup: ['test/postgres-global-setup.ts'],
    include: ['src/sync.property.test.ts'],
    env: { TEST_DB: 'postgres', SYNC_PROPERTY_INSTANCES: '2', SYNC_PROPERTY_RUNS: '100' },
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
