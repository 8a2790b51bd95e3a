/**
 * Derives the one migration sequence from `sql/migrations/` (tables, types, policies, data: versioned)
 * and `sql/functions/` (one file per function, trigger function or view: its current definition).
 *
 * - A function file names the migrations it belongs to on its second line,
 *   `-- migrations: 0008_completion_check 0023_completion_max_bytes`: the first creates it (it runs
 *   after everything that migration's earlier siblings created), the others re-create it for
 *   databases that ran the first one before a change. Each of those migrations carries the file's
 *   current text, at the migration's `-- @functions` line or else at its end.
 * - A function whose text changed since the last release (its SHA-256 differs from the one recorded
 *   in `src/generated/sql.ts`) is carried again by one generated migration after the last one, so
 *   a database that applied the released files gets the new definition. Releasing
 *   (`npm run generate -- --release <version>`) turns that migration into a file and records the
 *   new hashes.
 *
 * Supabase's declarative schemas work the same way round (current definitions in files, migrations
 * derived from them); here the derivation is by hash rather than by diffing two databases, so it
 * needs no database, runs in the browser bundle's build and is checked by a test.
 */
import { createHash } from 'node:crypto';

export interface MigrationSource {
  /** File name, `0001_schema.sql`. */
  readonly name: string;
  readonly sql: string;
}

export interface FunctionSource {
  /** Qualified name, `upload_lifecycle.upload_state`; the file is `sql/functions/<name>.sql`. */
  readonly name: string;
  readonly sql: string;
}

/** What the last release shipped: recorded in the generated bundle, read back by the next build. */
export interface ReleaseBaseline {
  readonly version: string;
  /** The last migration of the release (file name); every migration up to it is released. */
  readonly lastMigration: string;
  /** Function name → SHA-256 of its file as released. */
  readonly functions: Readonly<Record<string, string>>;
}

export interface SqlSequence {
  readonly migrations: readonly MigrationSource[];
  /** The generated migration carrying the functions changed since the release, if any. */
  readonly pending: { readonly name: string; readonly functions: readonly string[] } | null;
}

/**
 * Numbers the migration sequence skips, with the reason. A released number is never reused or
 * renamed: the Supabase CLI and `npx upload-lifecycle migrations --out` know a migration by name.
 */
export const EXPLAINED_GAPS: Readonly<Record<string, string>> = {
  '0025-0029':
    'never used: the outbox and sweep migrations were numbered from 0030 while 0023 and 0024 were written, and shipped so',
};

const MARKER = '-- @functions';
const number = (migration: string) => Number(/^(\d{4})_/.exec(migration)?.[1] ?? NaN);
const pad = (n: number) => String(n).padStart(4, '0');
const stem = (file: string) => file.replace(/\.sql$/, '');

/**
 * SHA-256 of a function file's statements: lines that start with `--` (the file's own comments,
 * its `-- migrations:` line) are left out, so documenting a function does not ship it again.
 */
export function functionHash(sql: string): string {
  const statements = sql
    .replaceAll('\r\n', '\n')
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
  return createHash('sha256').update(statements).digest('hex');
}

/** The migrations a function file names (`-- migrations: …`), first the one that creates it. */
export function functionMigrations(fn: FunctionSource): string[] {
  const line = /^-- migrations:([^\n]*)$/m.exec(fn.sql);
  const names = line?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (names.length === 0) throw new Error(`sql/functions/${fn.name}.sql: no "-- migrations: …" line`);
  return names;
}

/** Functions whose text differs from the release, or that the release did not have. */
export function changedSinceRelease(
  functions: readonly FunctionSource[],
  baseline: ReleaseBaseline,
): FunctionSource[] {
  return functions.filter((fn) => baseline.functions[fn.name] !== functionHash(fn.sql));
}

function byCreationOrder(a: FunctionSource, b: FunctionSource): number {
  // Helpers (upload_lifecycle) before the RPCs (public) that call them, then by name.
  const rank = (f: FunctionSource) => (f.name.startsWith('upload_lifecycle.') ? 0 : 1);
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}

function functionsBlock(functions: readonly FunctionSource[]): string {
  return functions.map((fn) => `-- ---- sql/functions/${fn.name}.sql ----\n${fn.sql.trimEnd()}\n`).join('\n');
}

/** Inserts the functions at the migration's `-- @functions` line, or appends them. */
function withFunctions(migration: MigrationSource, functions: readonly FunctionSource[]): string {
  const lines = migration.sql.split('\n');
  const at = lines.findIndex((l) => l.trim() === MARKER);
  if (functions.length === 0) return at < 0 ? migration.sql : lines.filter((_, i) => i !== at).join('\n');
  const block = functionsBlock(functions).trimEnd();
  if (at >= 0) return [...lines.slice(0, at), block, ...lines.slice(at + 1)].join('\n');
  return `${migration.sql.trimEnd()}\n\n${block}\n`;
}

function checkNumbering(names: readonly string[]): void {
  const allowed = new Set<number>();
  for (const range of Object.keys(EXPLAINED_GAPS)) {
    const [from, to] = range.split('-').map(Number) as [number, number];
    for (let n = from; n <= to; n++) allowed.add(n);
  }
  let expected = 1;
  for (const name of names) {
    const n = number(name);
    if (!Number.isInteger(n))
      throw new Error(`sql/migrations/${name}: name must start with a 4-digit number`);
    while (expected < n && allowed.has(expected)) expected++;
    if (n !== expected)
      throw new Error(
        `sql/migrations/${name}: expected number ${pad(expected)} (numbers have no gaps except EXPLAINED_GAPS in src/codegen/sql-sequence.ts)`,
      );
    expected++;
  }
}

/**
 * The migration sequence every installer applies (`applyMigrations`, `npx upload-lifecycle
 * migrations`, `upload-lifecycle/sql`). Throws on a function file that names an unknown
 * migration, a function defined in the wrong file, a function used by a migration before it is
 * created, a gap in the numbering, or a released function removed without a `drop function`.
 */
export function buildSqlSequence(
  migrationSources: readonly MigrationSource[],
  functions: readonly FunctionSource[],
  baseline: ReleaseBaseline,
): SqlSequence {
  const migrations = [...migrationSources].sort((a, b) => a.name.localeCompare(b.name));
  const names = migrations.map((m) => m.name);
  checkNumbering(names);
  const known = new Set(names.map(stem));
  const carried = new Map<string, FunctionSource[]>();
  const createdIn = new Map<string, string>();
  for (const fn of functions) {
    const defines = /create\s+or\s+replace\s+function\s+([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*\(/i.exec(
      fn.sql,
    );
    if (defines?.[1] !== fn.name)
      throw new Error(
        `sql/functions/${fn.name}.sql must define ${fn.name} (found ${defines?.[1] ?? 'nothing'})`,
      );
    const owners = functionMigrations(fn);
    for (const owner of owners) {
      if (!known.has(owner)) throw new Error(`sql/functions/${fn.name}.sql names unknown migration ${owner}`);
      carried.set(owner, [...(carried.get(owner) ?? []), fn]);
    }
    createdIn.set(fn.name, owners[0]!);
  }

  // A migration may call a function only once it exists (the function's first migration, or later).
  for (const migration of migrations) {
    const code = migration.sql.replace(/--[^\n]*/g, '');
    for (const [name, owner] of createdIn) {
      if (
        number(migration.name) < number(owner) &&
        new RegExp(`\\b${name.replace('.', '\\.')}\\s*\\(`).test(code)
      )
        throw new Error(
          `sql/migrations/${migration.name} calls ${name}, which sql/functions creates in ${owner}`,
        );
    }
  }

  const present = new Set(functions.map((f) => f.name));
  const unreleased = migrations.filter((m) => number(m.name) > number(baseline.lastMigration));
  for (const name of Object.keys(baseline.functions)) {
    if (present.has(name)) continue;
    const dropped = unreleased.some((m) =>
      new RegExp(`drop\\s+function\\s+(if\\s+exists\\s+)?${name.replace('.', '\\.')}\\b`, 'i').test(m.sql),
    );
    if (!dropped)
      throw new Error(
        `${name} was released but sql/functions/${name}.sql is gone: drop it in a new migration (drop function if exists …)`,
      );
  }

  const units = migrations.map((m) => ({
    name: m.name,
    sql: withFunctions(m, [...(carried.get(stem(m.name)) ?? [])].sort(byCreationOrder)),
  }));

  // Changed since the release, and every migration that creates it was released: a database that
  // applied the release has the old definition, so one more migration carries the new one. (A
  // function an unreleased migration names reaches upgraded databases with that migration.)
  const stale = changedSinceRelease(functions, baseline)
    .filter((fn) => functionMigrations(fn).every((m) => number(m) <= number(baseline.lastMigration)))
    .sort(byCreationOrder);
  if (stale.length === 0) return { migrations: units, pending: null };
  const pendingName = `${pad(number(names.at(-1)!) + 1)}_function_updates.sql`;
  const header = `-- ${pendingName.slice(0, 4)} function updates: GENERATED by \`npm run generate\` from sql/functions/. Do not edit.
-- Re-creates every function whose file changed since release ${baseline.version} (its SHA-256 differs
-- from the one src/generated/sql.ts records), so a database that applied the released migrations
-- ends with the definitions a fresh install has. On a fresh install they already ran with the
-- migrations that create them; running them again changes nothing.
`;
  return {
    migrations: [...units, { name: pendingName, sql: `${header}\n${functionsBlock(stale)}` }],
    pending: { name: pendingName, functions: stale.map((f) => f.name) },
  };
}

/**
 * Cuts a release: the pending function-update migration becomes a file of sql/migrations (a header
 * only; the functions it carries name it on their `-- migrations:` line, so it keeps carrying their
 * current text), and the baseline records every function's hash. `written` lists the files to write.
 */
export function cutRelease(
  sources: {
    readonly migrations: readonly MigrationSource[];
    readonly functions: readonly FunctionSource[];
    readonly baseline: ReleaseBaseline;
  },
  version: string,
): {
  migrations: MigrationSource[];
  functions: FunctionSource[];
  baseline: ReleaseBaseline;
  written: string[];
} {
  let migrations = [...sources.migrations];
  let functions = [...sources.functions];
  const written: string[] = [];
  const { pending } = buildSqlSequence(migrations, functions, sources.baseline);
  if (pending) {
    const stem = pending.name.replace(/\.sql$/, '');
    migrations = [
      ...migrations,
      {
        name: pending.name,
        sql: `-- ${pending.name.slice(0, 4)} function updates of release ${version}: re-creates the functions whose
-- definition changed since release ${sources.baseline.version}, so a database that applied its migrations ends
-- with the definitions a fresh install has. They are the files of sql/functions that name this
-- migration on their \`-- migrations:\` line.
`,
      },
    ];
    written.push(`sql/migrations/${pending.name}`);
    functions = functions.map((fn) => {
      if (!pending.functions.includes(fn.name)) return fn;
      written.push(`sql/functions/${fn.name}.sql`);
      return { ...fn, sql: fn.sql.replace(/^(-- migrations:[^\n]*)$/m, `$1 ${stem}`) };
    });
  }
  const baseline: ReleaseBaseline = {
    version,
    lastMigration: migrations
      .map((m) => m.name)
      .sort()
      .at(-1)!,
    functions: Object.fromEntries(functions.map((fn) => [fn.name, functionHash(fn.sql)])),
  };
  return { migrations, functions, baseline, written };
}
