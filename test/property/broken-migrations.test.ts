// Acceptance: the property suite notices when any single guard is taken out of the SQL. Each case
// applies a deliberately broken copy of the migrations to a fresh PGlite and requires the property
// run to find a counterexample.
import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SUPABASE_SHIM_SQL } from '../../src/db/migrate.js';
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
  /** The migration's name without its number (numbers shift when migrations are inserted). */
  migration: string;
  /** Returns the broken SQL; must change the migration (checked, so a rename cannot void the test). */
  apply(sql: string): string;
}

const BREAKAGES: Breakage[] = [
  {
    name: 'a transition row added (draft → completed)',
    migration: 'lifecycle.sql',
    apply: (sql) =>
      `${sql}\ninsert into upload_lifecycle.transitions (from_status, event, to_status) values ('draft', 'complete_now', 'completed');\n`,
  },
  {
    name: 'the deferred completion check dropped',
    migration: 'completion_check.sql',
    apply: (sql) => `${sql}\ndrop trigger entities_completion_check on upload_lifecycle.entities;\n`,
  },
  {
    name: 'the entities RLS policy loosened (every signed-in user reads every row)',
    migration: 'entities.sql',
    apply: (sql) =>
      sql.replace(
        'for select to authenticated using (owner_id = (select auth.uid()));',
        'for select to authenticated using (true);',
      ),
  },
  {
    name: 'the storage INSERT policy loosened (any uploading entity, any owner)',
    migration: 'plan_cached_functions.sql',
    apply: (sql) =>
      sql.replace("and e.owner_id = auth.uid() and e.status = 'uploading'", "and e.status = 'uploading'"),
  },
  {
    name: 'the file guard loosened (files may be added whatever the status)',
    migration: 'file_guard.sql',
    apply: (sql) => sql.replace("if v_entity.status is distinct from 'uploading' then", 'if false then'),
  },
  {
    name: 'the attempts guard removed',
    migration: 'transition_guard.sql',
    apply: (sql) =>
      sql.replace(
        "if v_transition.guard = 'attempts_left' then",
        "if v_transition.guard = 'no_such_guard' then",
      ),
  },
];

async function brokenDb(breakage: Breakage): Promise<TestDb> {
  const pglite = await PGlite.create();
  await pglite.exec(SUPABASE_SHIM_SQL);
  let applied = false;
  for (const migration of MIGRATIONS) {
    let sql = migration.sql;
    if (migration.name.replace(/^\d+_/, '') === breakage.migration) {
      sql = breakage.apply(sql);
      if (sql === migration.sql)
        throw new Error(`${breakage.name}: the mutation no longer matches ${migration.name}`);
      applied = true;
    }
    await pglite.exec(sql);
  }
  if (!applied) throw new Error(`${breakage.name}: migration ${breakage.migration} not found`);
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
