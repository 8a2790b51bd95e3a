// Acceptance: the property suite notices when any single guard is taken out of the SQL. Each case
// breaks one source file (a migration or a function's file), derives the migration sequence from
// the broken sources the way `npm run generate` does, applies it to a fresh PGlite and requires the
// property run to find a counterexample.
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { readSqlSources } from '../../src/codegen/generated-files.js';
import { buildSqlSequence } from '../../src/codegen/sql-sequence.js';
import { SUPABASE_SHIM_SQL } from '../../src/db/migrate.js';
import { fromPglite, type TestDb } from '../support/db.js';
import {
  DEFAULT_SEED,
  detectCapabilities,
  lifecycleProperty,
  prepareDatabase,
  propertySettings,
} from './harness.js';

interface Breakage {
  name: string;
  /**
   * The source to break: `migrations/<name without its number>.sql` (numbers shift when migrations
   * are inserted) or `functions/<schema>.<function>.sql`.
   */
  source: string;
  /** Returns the broken SQL; must change the source (checked, so a rename cannot void the test). */
  apply(sql: string): string;
}

const BREAKAGES: Breakage[] = [
  {
    name: 'a transition row added (draft → completed)',
    source: 'migrations/lifecycle.sql',
    apply: (sql) =>
      `${sql}\ninsert into upload_lifecycle.transitions (from_status, event, to_status) values ('draft', 'complete_now', 'completed');\n`,
  },
  {
    name: 'the deferred completion check dropped',
    source: 'functions/upload_lifecycle.check_completion.sql',
    apply: (sql) => `${sql}\ndrop trigger entities_completion_check on upload_lifecycle.entities;\n`,
  },
  {
    name: 'the entities RLS policy loosened (every signed-in user reads every row)',
    source: 'migrations/entities.sql',
    apply: (sql) =>
      sql.replace(
        'for select to authenticated using (owner_id = (select auth.uid()));',
        'for select to authenticated using (true);',
      ),
  },
  {
    name: 'the storage INSERT policy loosened (any uploading entity, any owner)',
    source: 'functions/upload_lifecycle.caller_may_write_object.sql',
    apply: (sql) =>
      sql.replace("and e.owner_id = auth.uid() and e.status = 'uploading'", "and e.status = 'uploading'"),
  },
  {
    name: 'the file guard loosened (files may be added whatever the status)',
    source: 'functions/upload_lifecycle.guard_entity_file.sql',
    apply: (sql) => sql.replace("if v_entity.status is distinct from 'uploading' then", 'if false then'),
  },
  {
    name: 'the attempts guard removed',
    source: 'functions/upload_lifecycle.guard_entity_update.sql',
    apply: (sql) =>
      sql.replace(
        "if v_transition.guard = 'attempts_left' then",
        "if v_transition.guard = 'no_such_guard' then",
      ),
  },
];

async function brokenDb(breakage: Breakage): Promise<TestDb> {
  const sources = await readSqlSources(join(import.meta.dirname, '..', '..'));
  let applied = false;
  const breakIf = <T extends { name: string; sql: string }>(kind: string, file: T, key: string): T => {
    if (`${kind}/${key}` !== breakage.source) return file;
    const sql = breakage.apply(file.sql);
    if (sql === file.sql)
      throw new Error(`${breakage.name}: the mutation no longer matches ${kind}/${file.name}`);
    applied = true;
    return { ...file, sql };
  };
  const migrations = sources.migrations.map((m) => breakIf('migrations', m, m.name.replace(/^\d+_/, '')));
  const functions = sources.functions.map((f) => breakIf('functions', f, `${f.name}.sql`));
  if (!applied) throw new Error(`${breakage.name}: ${breakage.source} not found`);
  const pglite = await PGlite.create();
  await pglite.exec(SUPABASE_SHIM_SQL);
  for (const unit of buildSqlSequence(migrations, functions, sources.baseline).migrations)
    await pglite.exec(unit.sql);
  return fromPglite(pglite);
}

// A budget, not a depth: each case stops at its first counterexample (the slowest needs ~100 runs).
const BUDGET = Number(process.env.PROPERTY_BROKEN_RUNS ?? 300);
const settings = propertySettings(BUDGET);

describe('the property run finds a counterexample when the SQL loses', () => {
  let db: TestDb | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it.each(BREAKAGES)(
    '$name',
    async (breakage) => {
      db = await brokenDb(breakage);
      await prepareDatabase(db);
      const caps = await detectCapabilities(db);
      const details = await fc.check(lifecycleProperty(db, caps, { maxCommands: settings.maxCommands }), {
        seed: DEFAULT_SEED, // fixed: the budget is measured for this seed
        numRuns: BUDGET,
        endOnFailure: true, // finding one is the point; shrinking would only cost time
      });
      expect(details.failed).toBe(true);
      const error = details.errorInstance as Error | undefined;
      console.log(
        `[broken: ${breakage.name}] counterexample after ${details.numRuns} run(s): ${error?.message.split('\n')[0]}`,
      );
    },
    600_000,
  );
});
