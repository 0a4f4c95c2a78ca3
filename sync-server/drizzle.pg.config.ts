import { defineConfig } from 'drizzle-kit';

// `pnpm --filter sync-server db:generate:pg` writes PostgreSQL migrations to ./drizzle-pg
// (committed), from schema.pg.ts, the twin of schema.ts (docs/postgresql.md).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.pg.ts',
  out: './drizzle-pg',
});
