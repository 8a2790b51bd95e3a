/**
 * `upload-lifecycle/sql`: the migrations as data, for tools that apply SQL themselves
 * (`supabase db push` reads the files under `sql/migrations/`; these are the same texts).
 *
 * @example
 * ```ts
 * import { MIGRATIONS } from 'upload-lifecycle/sql';
 * for (const { name, sql } of MIGRATIONS) await client.query(sql);
 * ```
 */
export { MIGRATIONS, SUPABASE_SHIM_SQL, applyMigrations } from './db/migrate.js';
export type { ApplyMigrationsOptions, SqlScriptRunner } from './db/migrate.js';
