import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSqlSources } from '../../src/codegen/generated-files.js';
import {
  EXPLAINED_GAPS,
  buildSqlSequence,
  cutRelease,
  functionHash,
  functionMigrations,
  type FunctionSource,
  type MigrationSource,
  type ReleaseBaseline,
} from '../../src/codegen/sql-sequence.js';
import { MIGRATIONS, RELEASE } from '../../src/generated/sql.js';

const root = join(import.meta.dirname, '..', '..');

describe('sql/: one current definition per function', () => {
  it('no migration file defines a function, trigger function or view: sql/functions does, one file each', async () => {
    const dir = join(root, 'sql/migrations');
    for (const name of await readdir(dir)) {
      const sql = (await readFile(join(dir, name), 'utf8')).replace(/--[^\n]*/g, '');
      expect(sql, name).not.toMatch(/create\s+(or\s+replace\s+)?(function|view|procedure)\b/i);
    }
    const { functions } = await readSqlSources(root);
    const defined = functions.map(
      (f) => /create\s+or\s+replace\s+function\s+([a-z_.]+)\s*\(/i.exec(f.sql)?.[1] ?? `(none in ${f.name})`,
    );
    expect(defined).toEqual(functions.map((f) => f.name));
  });

  it('the sequence is the migrations, numbered without gaps except the explained ones', () => {
    const numbers = MIGRATIONS.map((m) => Number(m.name.slice(0, 4)));
    const gaps: string[] = [];
    for (let i = 1; i < numbers.length; i++)
      if (numbers[i] !== numbers[i - 1]! + 1)
        gaps.push(
          `${String(numbers[i - 1]! + 1).padStart(4, '0')}-${String(numbers[i]! - 1).padStart(4, '0')}`,
        );
    expect(numbers[0]).toBe(1);
    expect(gaps).toEqual(Object.keys(EXPLAINED_GAPS));
  });

  it('the generated migration after the release carries exactly the changed functions no unreleased migration re-creates', async () => {
    const { functions } = await readSqlSources(root);
    const unreleased = (fn: FunctionSource) =>
      functionMigrations(fn).some((m) => `${m}.sql` > RELEASE.lastMigration);
    const changed = functions
      .filter((f) => RELEASE.functions[f.name] !== functionHash(f.sql) && !unreleased(f))
      .map((f) => f.name);
    const pending = MIGRATIONS.filter(
      (m) => m.name > RELEASE.lastMigration && m.name.endsWith('_function_updates.sql'),
    );
    expect(pending).toHaveLength(changed.length > 0 ? 1 : 0);
    const carried = [...(pending[0]?.sql ?? '').matchAll(/^-- ---- sql\/functions\/(.+)\.sql ----$/gm)].map(
      (m) => m[1],
    );
    expect(carried.sort()).toEqual(changed.sort());
    expect(pending[0]?.name).toBe(MIGRATIONS.at(-1)!.name);
  });
});

describe('buildSqlSequence', () => {
  const fn = (name: string, migrations: string, body = 'begin end'): FunctionSource => ({
    name,
    sql: `-- ${name}\n-- migrations: ${migrations}\ncreate or replace function ${name}() returns void language plpgsql as $$ ${body} $$;\n`,
  });
  const migrations: MigrationSource[] = [
    { name: '0001_schema.sql', sql: '-- 0001\ncreate schema s;\n' },
    { name: '0002_table.sql', sql: '-- 0002\n-- @functions\ncreate table s.t (x int);\n' },
  ];
  const functions = [fn('s.a', '0001_schema'), fn('s.b', '0002_table')];
  const baseline: ReleaseBaseline = {
    version: '1.0.0',
    lastMigration: '0002_table.sql',
    functions: Object.fromEntries(functions.map((f) => [f.name, functionHash(f.sql)])),
  };

  it('places each function in the migration that creates it: at `-- @functions`, else at the end', () => {
    const { migrations: units, pending } = buildSqlSequence(migrations, functions, baseline);
    expect(pending).toBeNull();
    expect(units[0]!.sql.indexOf('create schema')).toBeLessThan(units[0]!.sql.indexOf('function s.a'));
    expect(units[1]!.sql.indexOf('function s.b')).toBeLessThan(units[1]!.sql.indexOf('create table'));
    expect(units[1]!.sql).not.toContain('-- @functions');
  });

  it('a function changed since the release is carried by one new migration; a comment-only change is not', () => {
    const documented = { ...functions[0]!, sql: `-- why it exists\n${functions[0]!.sql}` };
    expect(buildSqlSequence(migrations, [documented, functions[1]!], baseline).pending).toBeNull();
    const changed = fn('s.a', '0001_schema', 'begin perform 1; end');
    const { migrations: units, pending } = buildSqlSequence(migrations, [changed, functions[1]!], baseline);
    expect(pending).toEqual({ name: '0003_function_updates.sql', functions: ['s.a'] });
    expect(units.at(-1)!.sql).toContain('perform 1');
    // Re-created by an unreleased migration: that migration brings it to upgraded databases.
    const recreated = fn('s.a', '0001_schema 0003_next', 'begin perform 1; end');
    const next = { name: '0003_next.sql', sql: '-- 0003\n' };
    const withNext = buildSqlSequence([...migrations, next], [recreated, functions[1]!], baseline);
    expect(withNext.pending).toBeNull();
    expect(withNext.migrations.at(-1)!.sql).toContain('perform 1');
  });

  it('refuses an unexplained gap, a call before the function exists, and a released function removed without a drop', () => {
    expect(() =>
      buildSqlSequence([...migrations, { name: '0004_next.sql', sql: '' }], functions, baseline),
    ).toThrow(/expected number 0003/);
    expect(() =>
      buildSqlSequence(
        [{ name: '0001_schema.sql', sql: 'select s.b();' }, migrations[1]!],
        functions,
        baseline,
      ),
    ).toThrow(/calls s\.b, which sql\/functions creates in 0002_table/);
    expect(() => buildSqlSequence(migrations, [functions[0]!], baseline)).toThrow(/s\.b was released/);
    expect(() =>
      buildSqlSequence(
        [...migrations, { name: '0003_drop.sql', sql: 'drop function if exists s.b();' }],
        [functions[0]!],
        baseline,
      ),
    ).not.toThrow();
  });

  it('cutting a release freezes the update migration as a file, and the next build has nothing pending', () => {
    const changed = fn('s.a', '0001_schema', 'begin perform 1; end');
    const before = buildSqlSequence(migrations, [changed, functions[1]!], baseline);
    const cut = cutRelease({ migrations, functions: [changed, functions[1]!], baseline }, '1.1.0');
    expect(cut.written).toEqual(['sql/migrations/0003_function_updates.sql', 'sql/functions/s.a.sql']);
    expect(cut.functions[0]!.sql).toContain('-- migrations: 0001_schema 0003_function_updates');
    expect(cut.baseline).toMatchObject({ version: '1.1.0', lastMigration: '0003_function_updates.sql' });
    const after = buildSqlSequence(cut.migrations, cut.functions, cut.baseline);
    expect(after.pending).toBeNull();
    // Same units, same order; the released update migration still carries the function.
    expect(after.migrations.map((m) => m.name)).toEqual(before.migrations.map((m) => m.name));
    expect(after.migrations.at(-1)!.sql).toContain('perform 1');
  });
});
