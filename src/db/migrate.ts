import { MIGRATIONS, SUPABASE_SHIM_SQL } from '../generated/sql.js';

/** Anything that runs a multi-statement SQL script: a PGlite instance, a `pg` client. */
export interface SqlScriptRunner {
  exec(sql: string): Promise<unknown>;
}

export interface ApplyMigrationsOptions {
  /**
   * Apply the Supabase shim first (roles, auth.*, storage.*). For PGlite and plain PostgreSQL
   * only; a Supabase project already has the real thing. Default false.
   */
  supabaseShim?: boolean;
}

/**
 * Applies the upload-lifecycle migrations in order. Every migration is idempotent, so applying
 * them again upgrades in place.
 *
 * @example
 * ```ts
 * const db = await PGlite.create();
 * await applyMigrations(db, { supabaseShim: true });
 * ```
 */
export async function applyMigrations(
  db: SqlScriptRunner,
  options: ApplyMigrationsOptions = {},
): Promise<void> {
  if (options.supabaseShim) await db.exec(SUPABASE_SHIM_SQL);
  for (const migration of MIGRATIONS) {
    try {
      await db.exec(migration.sql);
    } catch (error) {
      if (error instanceof Error) error.message = `${migration.name}: ${error.message}`;
      throw error;
    }
  }
}

export { MIGRATIONS, SUPABASE_SHIM_SQL };
