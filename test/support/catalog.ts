/**
 * What the migrations leave in the catalog, as comparable text: every function (signature, body,
 * language, volatility, security, settings, privileges, comment), trigger, policy, table, column,
 * constraint, index, type and grant in the schemas the migrations touch. Two databases with equal
 * snapshots behave the same for every caller.
 */
export interface CatalogQuery {
  query<T>(sql: string): Promise<{ rows: T[] }>;
}

const SCHEMAS = `('upload_lifecycle', 'public', 'storage', 'auth')`;

const SECTIONS: Record<string, string> = {
  functions: `
    select format('%s.%s(%s) returns %s | %s %s%s | config=%s | acl=%s | comment=%s | body=%s',
             n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
             l.lanname, p.provolatile, case when p.prosecdef then ' definer' else '' end,
             coalesce(array_to_string(p.proconfig, ','), ''), coalesce(p.proacl::text, 'default'),
             coalesce(obj_description(p.oid, 'pg_proc'), ''), md5(p.prosrc)) as line
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
    where n.nspname in ${SCHEMAS}`,
  triggers: `
    select format('%s: %s', t.tgenabled, pg_get_triggerdef(t.oid)) as line
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where not t.tgisinternal and n.nspname in ${SCHEMAS}`,
  policies: `
    select format('%s.%s %s %s %s to %s using (%s) check (%s)', schemaname, tablename, policyname,
                  permissive, cmd, roles::text, qual, with_check) as line
    from pg_policies where schemaname in ${SCHEMAS}`,
  tables: `
    select format('%s.%s kind=%s rls=%s acl=%s', n.nspname, c.relname, c.relkind, c.relrowsecurity,
                  coalesce(c.relacl::text, 'default')) as line
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'S')`,
  columns: `
    select format('%s.%s.%s %s notnull=%s default=%s identity=%s generated=%s acl=%s', n.nspname, c.relname,
                  a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                  coalesce(a.attacl::text, '')) as line
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v') and a.attnum > 0 and not a.attisdropped`,
  constraints: `
    select format('%s.%s %s', n.nspname, c.relname, pg_get_constraintdef(k.oid)) as line
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ${SCHEMAS}`,
  indexes: `select indexdef as line from pg_indexes where schemaname in ${SCHEMAS}`,
  types: `
    select format('%s.%s %s %s', n.nspname, t.typname, t.typtype,
                  (select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid)) as line
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname in ${SCHEMAS} and t.typtype in ('e', 'd')`,
  schemas: `
    select format('%s acl=%s', nspname, coalesce(nspacl::text, 'default')) as line
    from pg_namespace where nspname in ${SCHEMAS}`,
  data: `
    select format('transition %s -%s-> %s guard=%s actions=%s actors=%s', from_status, event, to_status, guard,
                  actions, actors) as line
    from upload_lifecycle.transitions
    union all
    select format('sweep_state %s %s', orphan_grace, outbox_retention) from upload_lifecycle.sweep_state`,
};

/** One sorted list of lines per section. */
export async function catalogSnapshot(db: CatalogQuery): Promise<Record<string, string[]>> {
  const snapshot: Record<string, string[]> = {};
  for (const [section, sql] of Object.entries(SECTIONS)) {
    const { rows } = await db.query<{ line: string }>(sql);
    snapshot[section] = rows.map((r) => r.line).sort();
  }
  return snapshot;
}
