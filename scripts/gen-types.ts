/**
 * `npm run generate:types`: writes `src/generated/database.types.ts` — the `Database` type in the
 * shape `supabase gen types typescript` produces (Tables with Row/Insert/Update/Relationships,
 * Functions with Args/Returns, Enums, CompositeTypes, and the Tables/TablesInsert/TablesUpdate/
 * Enums helpers) — read from the catalog of a throwaway PGlite after the migrations.
 * `npm run generate:types -- --check` exits 1 when the committed file is stale (the drift test in
 * test/contract/database-types.test.ts does the same).
 *
 * Schemas: `public` (the RPCs clients call) and `upload_lifecycle` (rows and the functions
 * service_role may call, for workers). Trigger functions and helpers no API role can execute are
 * left out, as they are not callable through PostgREST.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { readSqlSequence } from '../src/codegen/generated-files.js';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DATABASE_TYPES_PATH = 'src/generated/database.types.ts';
const SCHEMAS = ['public', 'upload_lifecycle'] as const;

interface Query {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

interface Column {
  schema: string;
  table: string;
  name: string;
  type_schema: string;
  type_name: string;
  type_kind: string;
  elem_schema: string | null;
  elem_name: string | null;
  nullable: boolean;
  has_default: boolean;
  identity: string;
  generated: string;
}

interface ForeignKey {
  schema: string;
  table: string;
  name: string;
  columns: string[];
  referenced_table: string;
  referenced_columns: string[];
  one_to_one: boolean;
}

interface Fn {
  schema: string;
  name: string;
  arg_names: string[] | null;
  arg_modes: string[] | null;
  arg_types: string[];
  n_defaults: number;
  n_input: number;
  returns_set: boolean;
  return_type: string;
}

/** A JSON shape declared in a function comment: `@type Name { field: type; … }`. */
export interface TypeDeclaration {
  name: string;
  body: string;
  fields: string[];
}

/**
 * Reads the `@type` declarations and the `@returns` name of a function comment (see
 * the `comment on function` of each file in sql/functions). Fields are the top-level keys of the body.
 */
export function parseComment(comment: string | null): {
  types: TypeDeclaration[];
  returns: string | undefined;
} {
  const types: TypeDeclaration[] = [];
  for (const match of (comment ?? '').matchAll(/^@type (\w+) (\{.*\})\s*$/gm)) {
    const body = match[2]!;
    const fields: string[] = [];
    let depth = 0;
    let start = 1;
    for (let i = 1; i < body.length - 1; i++) {
      const ch = body[i];
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') depth--;
      else if (ch === ';' && depth === 0) {
        fields.push(body.slice(start, i));
        start = i + 1;
      }
    }
    fields.push(body.slice(start, body.length - 1));
    types.push({
      name: match[1]!,
      body,
      fields: fields.map((f) => f.trim().split(':')[0]!.trim()).filter(Boolean),
    });
  }
  const returns = /^@returns (\w+)\s*$/m.exec(comment ?? '')?.[1];
  return { types, returns };
}

interface PgType {
  oid: string;
  schema: string;
  name: string;
  kind: string;
  elem: string | null;
  relid: string | null;
}

const STRING_TYPES = new Set([
  'bytea',
  'bpchar',
  'varchar',
  'date',
  'text',
  'citext',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'uuid',
  'vector',
  'name',
]);
const NUMBER_TYPES = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);

/** Reads the catalog and renders the file. `db` must have the shim and the migrations applied. */
export async function renderDatabaseTypes(db: Query): Promise<string> {
  const types = new Map<string, PgType>();
  for (const t of (
    await db.query<PgType>(
      `select t.oid::text as oid, n.nspname as schema, t.typname as name, t.typtype as kind,
              nullif(t.typelem, 0)::text as elem, nullif(t.typrelid, 0)::text as relid
       from pg_type t join pg_namespace n on n.oid = t.typnamespace`,
    )
  ).rows) {
    types.set(t.oid, t);
  }
  const enums = (
    await db.query<{ schema: string; name: string; labels: string[] }>(
      `select n.nspname as schema, t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
       from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
       where n.nspname = any($1) group by 1, 2 order by 1, 2`,
      [SCHEMAS],
    )
  ).rows;
  const tables = (
    await db.query<{ schema: string; name: string; relid: string }>(
      `select n.nspname as schema, c.relname as name, c.oid::text as relid from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = any($1) and c.relkind in ('r', 'p') order by 1, 2`,
      [SCHEMAS],
    )
  ).rows;
  const columns = (
    await db.query<Column>(
      `select n.nspname as schema, c.relname as "table", a.attname as name,
              tn.nspname as type_schema, t.typname as type_name, t.typtype as type_kind,
              en.nspname as elem_schema, et.typname as elem_name,
              not a.attnotnull as nullable, a.atthasdef as has_default,
              a.attidentity as identity, a.attgenerated as generated
       from pg_attribute a
       join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       join pg_type t on t.oid = a.atttypid join pg_namespace tn on tn.oid = t.typnamespace
       left join pg_type et on et.oid = nullif(t.typelem, 0) and t.typcategory = 'A'
       left join pg_namespace en on en.oid = et.typnamespace
       where n.nspname = any($1) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
       order by 1, 2, 3`,
      [SCHEMAS],
    )
  ).rows;
  const foreignKeys = (
    await db.query<ForeignKey>(
      `select n.nspname as schema, c.relname as "table", k.conname as name,
              array(select a.attname from unnest(k.conkey) with ordinality u(n, i)
                    join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i)::text[] as columns,
              rc.relname as referenced_table,
              array(select a.attname from unnest(k.confkey) with ordinality u(n, i)
                    join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i)::text[] as referenced_columns,
              exists (select 1 from pg_index i where i.indrelid = k.conrelid and i.indisunique
                      and i.indpred is null and (select array_agg(x order by x) from unnest(i.indkey::int2[]) x)
                          = (select array_agg(x order by x) from unnest(k.conkey) x)) as one_to_one
       from pg_constraint k
       join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
       join pg_class rc on rc.oid = k.confrelid
       where k.contype = 'f' and n.nspname = any($1)
       order by 1, 2, 3`,
      [SCHEMAS],
    )
  ).rows;
  const functions = (
    await db.query<Fn>(
      `select n.nspname::text as schema, p.proname::text as name, p.proargnames::text[] as arg_names,
              p.proargmodes::text[] as arg_modes,
              coalesce(p.proallargtypes, p.proargtypes::oid[])::text[] as arg_types,
              p.pronargdefaults as n_defaults, p.pronargs as n_input,
              p.proretset as returns_set, p.prorettype::text as return_type
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any($1) and p.prokind = 'f' and p.prorettype <> 'trigger'::regtype
         and (n.nspname = 'public'
              or has_function_privilege('service_role', p.oid, 'execute')
              or has_function_privilege('authenticated', p.oid, 'execute'))
       order by 1, 2, pg_get_function_identity_arguments(p.oid)`,
      [SCHEMAS],
    )
  ).rows;

  const comments = (
    await db.query<{ schema: string; name: string; comment: string | null }>(
      `select n.nspname as schema, p.proname as name, obj_description(p.oid, 'pg_proc') as comment
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = any($1) and obj_description(p.oid, 'pg_proc') is not null`,
      [SCHEMAS],
    )
  ).rows;

  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  tables.sort((a, b) => byName(a.schema, b.schema) || byName(a.name, b.name));
  columns.sort((a, b) => byName(a.schema, b.schema) || byName(a.table, b.table) || byName(a.name, b.name));
  foreignKeys.sort(
    (a, b) => byName(a.schema, b.schema) || byName(a.table, b.table) || byName(a.name, b.name),
  );
  functions.sort((a, b) => byName(a.schema, b.schema) || byName(a.name, b.name));
  enums.sort((a, b) => byName(a.schema, b.schema) || byName(a.name, b.name));

  const tsOfType = (oid: string): string => {
    const t = types.get(oid);
    if (!t) return 'unknown';
    if (t.name === 'void') return 'undefined';
    if (t.kind === 'e') return `Database[${q(t.schema)}]["Enums"][${q(t.name)}]`;
    if (t.kind === 'c' && t.relid && (SCHEMAS as readonly string[]).includes(t.schema)) {
      const isTable = tables.some((tb) => tb.relid === t.relid);
      return isTable
        ? `Database[${q(t.schema)}]["Tables"][${q(t.name)}]["Row"]`
        : `Database[${q(t.schema)}]["CompositeTypes"][${q(t.name)}]`;
    }
    if (t.elem && t.name.startsWith('_')) return `${tsOfType(t.elem)}[]`;
    return scalar(t.name);
  };
  const tsOfColumn = (c: Column): string => {
    if (c.type_kind === 'e') return `Database[${q(c.type_schema)}]["Enums"][${q(c.type_name)}]`;
    if (c.elem_name) return `${scalar(c.elem_name)}[]`;
    return scalar(c.type_name);
  };

  const out: string[] = [];
  out.push(
    '// GENERATED from the database catalog after the migrations by `npm run generate:types`. Do not edit.',
    '// Same shape as `supabase gen types typescript --schema public,upload_lifecycle`.',
    '/* eslint-disable */',
    '',
    '/** A JSON value, as jsonb columns and RPC answers carry it. */',
    'export type Json =',
    '  | string',
    '  | number',
    '  | boolean',
    '  | null',
    '  | { [key: string]: Json | undefined }',
    '  | Json[]',
    '',
    '/** The public and upload_lifecycle schemas: tables, views, functions (RPCs) and enums. Pass it to `createClient<Database>`. */',
    'export type Database = {',
  );
  for (const schema of SCHEMAS) {
    out.push(`  ${schema}: {`, '    Tables: {');
    const schemaTables = tables.filter((t) => t.schema === schema);
    if (schemaTables.length === 0) out.push('      [_ in never]: never');
    for (const table of schemaTables) {
      const cols = columns.filter((c) => c.schema === schema && c.table === table.name);
      out.push(`      ${table.name}: {`, '        Row: {');
      for (const c of cols) out.push(`          ${c.name}: ${tsOfColumn(c)}${c.nullable ? ' | null' : ''}`);
      out.push('        }', '        Insert: {');
      for (const c of cols) {
        if (c.identity === 'a' || c.generated === 's') out.push(`          ${c.name}?: never`);
        else
          out.push(
            `          ${c.name}${c.nullable || c.has_default || c.identity === 'd' ? '?' : ''}: ${tsOfColumn(c)}${c.nullable ? ' | null' : ''}`,
          );
      }
      out.push('        }', '        Update: {');
      for (const c of cols) {
        if (c.identity === 'a' || c.generated === 's') out.push(`          ${c.name}?: never`);
        else out.push(`          ${c.name}?: ${tsOfColumn(c)}${c.nullable ? ' | null' : ''}`);
      }
      out.push('        }');
      const fks = foreignKeys.filter((k) => k.schema === schema && k.table === table.name);
      if (fks.length === 0) out.push('        Relationships: []');
      else {
        out.push('        Relationships: [');
        for (const k of fks) {
          out.push(
            '          {',
            `            foreignKeyName: ${q(k.name)}`,
            `            columns: [${k.columns.map(q).join(', ')}]`,
            `            isOneToOne: ${k.one_to_one}`,
            `            referencedRelation: ${q(k.referenced_table)}`,
            `            referencedColumns: [${k.referenced_columns.map(q).join(', ')}]`,
            '          },',
          );
        }
        out.push('        ]');
      }
      out.push('      }');
    }
    out.push('    }', '    Views: {', '      [_ in never]: never', '    }', '    Functions: {');
    const schemaFns = functions.filter((f) => f.schema === schema);
    if (schemaFns.length === 0) out.push('      [_ in never]: never');
    const names = [...new Set(schemaFns.map((f) => f.name))];
    for (const name of names) {
      const overloads = schemaFns.filter((f) => f.name === name).map((f) => renderFunction(f, tsOfType));
      if (overloads.length === 1) out.push(`      ${name}: ${overloads[0]}`);
      else out.push(`      ${name}:`, ...overloads.map((o) => `        | ${o}`));
    }
    out.push('    }', '    Enums: {');
    const schemaEnums = enums.filter((e) => e.schema === schema);
    if (schemaEnums.length === 0) out.push('      [_ in never]: never');
    for (const e of schemaEnums) out.push(`      ${e.name}: ${e.labels.map(q).join(' | ')}`);
    out.push('    }', '    CompositeTypes: {', '      [_ in never]: never', '    }', '  }');
  }
  out.push('}', '', HELPERS);
  const declared = comments
    .flatMap((c) => parseComment(c.comment).types)
    .sort((a, b) => byName(a.name, b.name));
  out.push('// JSON shapes the RPCs answer, declared with `@type` in the function comments (0021).');
  for (const t of declared) {
    const fields = t.body
      .slice(1, -1)
      .split(/;(?![^{]*\})/)
      .map((f) => `  ${f.trim()}`)
      .join('\n');
    out.push(`export type ${t.name} = {`, fields, '}', '');
  }
  const returnsOf = new Map(
    comments.filter((c) => c.schema === 'public').map((c) => [c.name, parseComment(c.comment).returns]),
  );
  out.push(
    '/** What each RPC of `public` answers: the declared JSON shape where there is one (Database says `Json`). */',
    'export type RpcResults = {',
  );
  for (const name of [...new Set(functions.filter((f) => f.schema === 'public').map((f) => f.name))]) {
    out.push(`  ${name}: ${returnsOf.get(name) ?? `Database["public"]["Functions"][${q(name)}]["Returns"]`}`);
  }
  out.push('}', '');
  out.push('export const Constants = {');
  for (const schema of SCHEMAS) {
    out.push(`  ${schema}: {`, '    Enums: {');
    for (const e of enums.filter((x) => x.schema === schema)) {
      out.push(`      ${e.name}: [${e.labels.map(q).join(', ')}],`);
    }
    out.push('    },', '  },');
  }
  out.push('} as const', '');
  return out.join('\n');
}

function renderFunction(f: Fn, tsOfType: (oid: string) => string): string {
  const modes = f.arg_modes ?? f.arg_types.map(() => 'i');
  const names = f.arg_names ?? [];
  const inputs: string[] = [];
  const outputs: string[] = [];
  let inputIndex = 0;
  f.arg_types.forEach((type, i) => {
    const mode = modes[i];
    const name = names[i] ?? '';
    if (mode === 'i' || mode === 'b' || mode === 'v') {
      const optional = inputIndex >= f.n_input - f.n_defaults;
      inputIndex++;
      if (name) inputs.push(`${name}${optional ? '?' : ''}: ${tsOfType(type)}`);
    }
    if (mode === 'o' || mode === 'b' || mode === 't') outputs.push(`${name}: ${tsOfType(type)}`);
  });
  const args = inputs.length === 0 ? 'never' : `{ ${inputs.join('; ')} }`;
  let returns = outputs.length > 0 ? `{ ${outputs.join('; ')} }` : tsOfType(f.return_type);
  if (f.returns_set) returns = `${returns}[]`;
  return `{ Args: ${args}; Returns: ${returns} }`;
}

function scalar(name: string): string {
  if (name === 'bool') return 'boolean';
  if (NUMBER_TYPES.has(name)) return 'number';
  if (STRING_TYPES.has(name)) return 'string';
  if (name === 'json' || name === 'jsonb') return 'Json';
  if (name === 'void') return 'undefined';
  if (name === 'record') return 'Record<string, unknown>';
  return 'unknown';
}

const q = (s: string) => JSON.stringify(s);

const HELPERS = `type DefaultSchema = Database["public"]
type SchemaName = keyof Database

/** A table's row: \`Tables<"x">\` in public, or \`Tables<{ schema: "upload_lifecycle" }, "entities">\`. */
export type Tables<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Row: infer R }
    ? R
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Row: infer R }
      ? R
      : never
    : never

export type TablesInsert<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Insert: infer I }
    ? I
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Insert: infer I }
      ? I
      : never
    : never

export type TablesUpdate<
  NameOrOptions extends keyof DefaultSchema["Tables"] | { schema: SchemaName },
  TableName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Tables"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Tables"][TableName] extends { Update: infer U }
    ? U
    : never
  : NameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][NameOrOptions] extends { Update: infer U }
      ? U
      : never
    : never

export type Enums<
  NameOrOptions extends keyof DefaultSchema["Enums"] | { schema: SchemaName },
  EnumName extends NameOrOptions extends { schema: SchemaName }
    ? keyof Database[NameOrOptions["schema"]]["Enums"]
    : never = never,
> = NameOrOptions extends { schema: SchemaName }
  ? Database[NameOrOptions["schema"]]["Enums"][EnumName]
  : NameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][NameOrOptions]
    : never

/** Arguments and result of an RPC in public: \`RpcArgs<"finalize_upload">\`. */
export type RpcArgs<Name extends keyof DefaultSchema["Functions"]> = DefaultSchema["Functions"][Name] extends {
  Args: infer A
}
  ? A
  : never
export type RpcReturns<Name extends keyof DefaultSchema["Functions"]> = DefaultSchema["Functions"][Name] extends {
  Returns: infer R
}
  ? R
  : never
`;

/** The SQL the generator runs: the shim, then the migration sequence derived from the files on disk. */
export async function loadSql(root: string): Promise<{ shim: string; migrations: string[] }> {
  const sequence = await readSqlSequence(root);
  return {
    shim: await readFile(join(root, 'sql/testing/supabase-shim.sql'), 'utf8'),
    migrations: sequence.migrations.map((m) => m.sql),
  };
}

/** Applies the SQL under `root` to a throwaway PGlite and renders the types from its catalog. */
export async function renderDatabaseTypesFrom(root: string): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { shim, migrations } = await loadSql(root);
  const db = await PGlite.create();
  try {
    await db.exec(shim);
    for (const sql of migrations) await db.exec(sql);
    return await renderDatabaseTypes(db as unknown as Query);
  } finally {
    await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const content = await renderDatabaseTypesFrom(root);
  const path = join(root, DATABASE_TYPES_PATH);
  const current = await readFile(path, 'utf8').catch(() => null);
  if (process.argv.includes('--check')) {
    if (current !== content) {
      console.error(`out of date (run npm run generate:types): ${DATABASE_TYPES_PATH}`);
      process.exit(1);
    }
    console.log(`${DATABASE_TYPES_PATH} is up to date`);
  } else if (current === content) {
    console.log(`${DATABASE_TYPES_PATH} is up to date`);
  } else {
    await writeFile(path, content);
    console.log(`wrote ${DATABASE_TYPES_PATH}`);
  }
}
