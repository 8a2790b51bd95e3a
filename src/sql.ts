/**
 * `upload-lifecycle/sql`: the migration sequence as data, for tools that apply SQL themselves. It is
 * sql/migrations with each function of sql/functions in place, plus the migration that carries the
 * functions changed since the last release (sql/README.md) — the very texts `applyMigrations` runs
 * and `npx upload-lifecycle migrations --out` writes for `supabase db push`. The raw files under
 * `sql/migrations/` lack their functions: apply these instead.
 *
 * @example
 * ```ts
 * import { MIGRATIONS } from 'upload-lifecycle/sql';
 * for (const { name, sql } of MIGRATIONS) await client.query(sql);
 * ```
 */
export { MIGRATIONS, SUPABASE_SHIM_SQL, applyMigrations } from './db/migrate.js';
export type { ApplyMigrationsOptions, SqlScriptRunner } from './db/migrate.js';
