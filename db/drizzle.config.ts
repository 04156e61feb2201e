import { defineConfig } from 'drizzle-kit';

/** drizzle-kit reads this to generate SQL migrations from the tables listed in src/db/schema.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './db/migrations',
});
