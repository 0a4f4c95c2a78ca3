import { defineConfig } from 'drizzle-kit';

// `pnpm --filter sync-server db:generate` writes SQL migrations to ./drizzle (committed).
// The server applies them at start-up (src/db/connection.ts).
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
