import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Mutation testing only (scripts/mutation.mjs): the test files of one area, named in MUTATION_TESTS.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte()],
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  test: {
    environment: 'node',
    include: (process.env.MUTATION_TESTS ?? 'src/**/*.test.ts').split(','),
    testTimeout: 30_000,
    setupFiles: ['fake-indexeddb/auto'],
  },
});
