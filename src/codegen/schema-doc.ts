/**
 * Renders `docs/schema.md`: a Mermaid ER diagram of schema `upload_lifecycle`, read from the
 * database catalog after the migrations ran (never drawn by hand).
 */
import type { SqlTx } from '../db/client.js';

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  is_pk: boolean;
  is_fk: boolean;
}

interface ForeignKeyRow {
  from_table: string;
  to_table: string;
  to_schema: string;
  name: string;
}

export async function renderSchemaDoc(db: SqlTx): Promise<string> {
  const { rows: columns } = await db.query<ColumnRow>(`
    select c.relname as table_name, a.attname as column_name,
           regexp_replace(format_type(a.atttypid, a.atttypmod), '^upload_lifecycle\\.', '') as data_type,
           exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p' and a.attnum = any (k.conkey)) as is_pk,
           exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'f' and a.attnum = any (k.conkey)) as is_fk
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    where n.nspname = 'upload_lifecycle' and c.relkind = 'r'
    order by c.relname, a.attnum`);
  const { rows: keys } = await db.query<ForeignKeyRow>(`
    select c.relname as from_table, t.relname as to_table, tn.nspname as to_schema, k.conname as name
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_class t on t.oid = k.confrelid
    join pg_namespace tn on tn.oid = t.relnamespace
    where n.nspname = 'upload_lifecycle' and k.contype = 'f'
    order by c.relname, k.conname`);
  const { rows: rls } = await db.query<{ table_name: string; rls: boolean }>(`
    select c.relname as table_name, c.relrowsecurity as rls from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'upload_lifecycle' and c.relkind = 'r' order by c.relname`);

  const tables = [...new Set(columns.map((c) => c.table_name))];
  const entity = (schema: string, table: string) =>
    schema === 'upload_lifecycle' ? table : `${schema}_${table}`;
  const out: string[] = ['erDiagram'];
  for (const table of tables) {
    out.push(`  ${table} {`);
    for (const c of columns.filter((col) => col.table_name === table)) {
      const type = c.data_type
        .replace('timestamp with time zone', 'timestamptz')
        .replace('[]', '_array')
        .replace(/[^A-Za-z0-9_]/g, '_');
      const key = [c.is_pk ? 'PK' : '', c.is_fk ? 'FK' : ''].filter(Boolean).join(',');
      out.push(`    ${type} ${c.column_name}${key ? ` ${key}` : ''}`);
    }
    out.push('  }');
  }
  for (const k of keys) {
    out.push(`  ${entity(k.to_schema, k.to_table)} ||--o{ ${k.from_table} : "${k.name}"`);
  }
  const rlsList = rls.map((r) => `| \`${r.table_name}\` | ${r.rls ? 'on' : '**off**'} |`).join('\n');
  return `<!-- GENERATED from the database catalog after the migrations, by \`npm run generate\`. Do not edit. -->
# Schema \`upload_lifecycle\`

\`\`\`mermaid
${out.join('\n')}
\`\`\`

| table | row level security |
|---|---|
${rlsList}
`;
}
