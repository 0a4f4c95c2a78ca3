import { defineConfig } from 'vitest/config';

// One Vitest project per package; each package keeps its own config next to its code.
export default defineConfig({
  test: {
    projects: ['web/vitest.config.ts', 'sync-server/vitest.config.ts'],
  },
});
