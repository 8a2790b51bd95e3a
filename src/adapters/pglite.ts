/**
 * `upload-lifecycle/pglite`: the embedded backend — the same SQL in PGlite.
 */
export { applyMigrations, type ApplyMigrationsOptions } from '../db/migrate.js';
