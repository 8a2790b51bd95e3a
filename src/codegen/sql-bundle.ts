/**
 * Renders `src/generated/sql.ts`: the migrations and the Supabase shim as string constants, so the
 * same SQL runs in Node, in bundlers and in the browser (Storybook's PGlite) without file access.
 */
export function renderSqlBundle(migrations: readonly { name: string; sql: string }[], shim: string): string {
  const entries = migrations
    .map((m) => `  { name: ${JSON.stringify(m.name)}, sql: ${JSON.stringify(m.sql)} },`)
    .join('\n');
  return `// GENERATED from sql/ by \`npm run generate\`. Do not edit.
/* eslint-disable */
export const MIGRATIONS: readonly { readonly name: string; readonly sql: string }[] = [
${entries}
];

export const SUPABASE_SHIM_SQL: string = ${JSON.stringify(shim)};
`;
}
