import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineProject } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineProject({
  plugins: [svelte()],
  resolve: {
    alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) },
  },
  test: {
    name: 'web',
    environment: 'node',
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    // IndexedDB for Dexie in Node; it must exist before Dexie is first imported.
    setupFiles: ['fake-indexeddb/auto'],
    // The messages compiled once per run (Paraglide's Vite plugin keeps Vitest from exiting).
    globalSetup: ['./scripts/compile-messages.js'],
  },
});
