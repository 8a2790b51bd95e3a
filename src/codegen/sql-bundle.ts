/**
 * Renders `src/generated/sql.ts`: the migration sequence and the Supabase shim as string constants,
 * so the same SQL runs in Node, in bundlers and in the browser (Storybook's PGlite) without file
 * access, and the release baseline the next build compares function files with.
 */
import type { MigrationSource, ReleaseBaseline } from './sql-sequence.js';

export const RELEASE_START = '// RELEASE (read back by `npm run generate`; changed only by `--release`):';

export function renderSqlBundle(
  migrations: readonly MigrationSource[],
  shim: string,
  release: ReleaseBaseline,
): string {
  const entries = migrations
    .map((m) => `  { name: ${JSON.stringify(m.name)}, sql: ${JSON.stringify(m.sql)} },`)
    .join('\n');
  const sortedRelease = {
    version: release.version,
    lastMigration: release.lastMigration,
    functions: Object.fromEntries(Object.entries(release.functions).sort(([a], [b]) => a.localeCompare(b))),
  };
  return `// GENERATED from sql/ by \`npm run generate\`. Do not edit.
/* eslint-disable */
/** The migration sequence: sql/migrations with the functions of sql/functions in place. */
export const MIGRATIONS: readonly { readonly name: string; readonly sql: string }[] = [
${entries}
];

export const SUPABASE_SHIM_SQL: string = ${JSON.stringify(shim)};

${RELEASE_START}
export const RELEASE: {
  readonly version: string;
  readonly lastMigration: string;
  readonly functions: Readonly<Record<string, string>>;
} = ${JSON.stringify(sortedRelease, null, 2)};
`;
}

/** Reads the release baseline back from a rendered bundle. */
export function parseReleaseBaseline(bundle: string): ReleaseBaseline | null {
  const at = bundle.indexOf(RELEASE_START);
  if (at < 0) return null;
  const json = /=\s*(\{[\s\S]*\});\s*$/.exec(bundle.slice(at))?.[1];
  return json ? (JSON.parse(json) as ReleaseBaseline) : null;
}
