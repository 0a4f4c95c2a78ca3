import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Mutation testing only (scripts/mutation.mjs): the test files of one area, named in MUTATION_TESTS.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    environment: 'node',
    include: (process.env.MUTATION_TESTS ?? 'src/**/*.test.ts').split(','),
  },
});
