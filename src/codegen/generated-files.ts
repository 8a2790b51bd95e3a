/**
 * The list of generated files and how each is rendered. Shared by `npm run generate` and the
 * drift tests, so both always agree on what "up to date" means.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIFECYCLE_TRANSITIONS, UPLOAD_STATUSES, lifecycleMachine } from '../machines/lifecycle.js';
import { toMermaid } from '../machines/diagram.js';
import { renderLifecycleSql, type LifecycleSpec } from './lifecycle-sql.js';
import { renderLifecycleDoc } from './lifecycle-doc.js';
import { renderSqlBundle } from './sql-bundle.js';
import { renderSchemaDoc } from './schema-doc.js';

export const LIFECYCLE_SQL_PATH = 'sql/migrations/0002_lifecycle.sql';
export const LIFECYCLE_DOC_PATH = 'docs/lifecycle.md';
export const SQL_BUNDLE_PATH = 'src/generated/sql.ts';
export const SCHEMA_DOC_PATH = 'docs/schema.md';

export const lifecycleSpec: LifecycleSpec = {
  statuses: UPLOAD_STATUSES,
  transitions: LIFECYCLE_TRANSITIONS,
};

/** Renders every generated file from the current sources: path (relative to root) → content. */
export async function renderGeneratedFiles(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set(LIFECYCLE_SQL_PATH, renderLifecycleSql(lifecycleSpec));
  files.set(LIFECYCLE_DOC_PATH, renderLifecycleDoc(lifecycleSpec, toMermaid(lifecycleMachine)));
  const migrationsDir = join(root, 'sql/migrations');
  const onDisk = (await readdir(migrationsDir)).filter((n) => n.endsWith('.sql'));
  const names = [...new Set([...onDisk, '0002_lifecycle.sql'])].sort();
  const migrations = await Promise.all(
    names.map(async (name) => ({
      name,
      sql:
        name === '0002_lifecycle.sql'
          ? files.get(LIFECYCLE_SQL_PATH)!
          : await readFile(join(migrationsDir, name), 'utf8'),
    })),
  );
  const testingDir = join(root, 'sql/testing');
  const shim = await readFile(join(testingDir, 'supabase-shim.sql'), 'utf8');
  files.set(SQL_BUNDLE_PATH, renderSqlBundle(migrations, shim));
  files.set(SCHEMA_DOC_PATH, await renderSchemaDocFrom(migrations, shim));
  return files;
}

/** Applies the given SQL to a throwaway PGlite and renders the ER diagram from its catalog. */
async function renderSchemaDocFrom(migrations: readonly { sql: string }[], shim: string): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    await db.exec(shim);
    for (const m of migrations) await db.exec(m.sql);
    return await renderSchemaDoc(db as never);
  } finally {
    await db.close();
  }
}
