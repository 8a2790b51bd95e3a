/**
 * Renders the lifecycle machine as SQL: the status enum, the transition table and the initial
 * status. The output is committed as `sql/migrations/0002_lifecycle.sql` and
 * `sql/functions/upload_lifecycle.initial_status.sql`; a test fails when a committed file differs
 * from what these functions render from the machine.
 */
import type { LifecycleTransition, UploadStatus } from '../machines/lifecycle.js';

export interface LifecycleSpec {
  statuses: readonly UploadStatus[];
  transitions: readonly (LifecycleTransition & { actions: readonly string[] })[];
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const array = (values: readonly string[]) =>
  values.length === 0 ? `'{}'::text[]` : `array[${values.map(literal).join(', ')}]::text[]`;

export function renderLifecycleSql(spec: LifecycleSpec): string {
  const initial = spec.transitions.find((t) => t.from === null);
  if (!initial) throw new Error('the lifecycle has no create transition');
  const changes = spec.transitions.filter((t) => t.from !== null);
  const rows = changes
    .map(
      (t) =>
        `  (${literal(t.from!)}, ${literal(t.event)}, ${literal(t.to)}, ${t.guard ? literal(t.guard) : 'null'}, ${array(t.actions)}, ${array(t.actors)})`,
    )
    .join(',\n');
  const enumValues = spec.statuses.map(literal).join(', ');
  return `-- 0002 lifecycle: GENERATED from src/machines/lifecycle.ts by \`npm run generate\`. Do not edit.
-- Guarantees: the status enum has exactly the machine's statuses; upload_lifecycle.transitions
-- holds exactly the machine's status changes (from, event, to, guard, actions, who), and
-- initial_status() is the target of \`create\`. The triggers of 0007 consult this table, so it is
-- the only list of allowed status changes in the database. Nobody but the schema owner may change it.
do $$
begin
  if not exists (
    select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'upload_lifecycle' and t.typname = 'upload_status'
  ) then
    create type upload_lifecycle.upload_status as enum (${enumValues});
  end if;
end
$$;

create table if not exists upload_lifecycle.transitions (
  from_status upload_lifecycle.upload_status not null,
  event text not null,
  to_status upload_lifecycle.upload_status not null,
  guard text,
  actions text[] not null default '{}',
  actors text[] not null default '{}',
  primary key (from_status, to_status),
  unique (from_status, event)
);

alter table upload_lifecycle.transitions enable row level security;
revoke all on upload_lifecycle.transitions from public, anon, authenticated, service_role;
grant select on upload_lifecycle.transitions to authenticated, service_role;
drop policy if exists transitions_read on upload_lifecycle.transitions;
create policy transitions_read on upload_lifecycle.transitions
  for select to authenticated, service_role using (true);

delete from upload_lifecycle.transitions;
insert into upload_lifecycle.transitions (from_status, event, to_status, guard, actions, actors) values
${rows};
`;
}

/**
 * Renders `sql/functions/upload_lifecycle.initial_status.sql`: the target of `create`, the column
 * default of `entities.status`. Created by 0002 with the table it belongs to.
 */
export function renderInitialStatusSql(
  spec: LifecycleSpec,
  migrations: readonly string[] = ['0002_lifecycle'],
): string {
  const initial = spec.transitions.find((t) => t.from === null);
  if (!initial) throw new Error('the lifecycle has no create transition');
  return `-- upload_lifecycle.initial_status
-- migrations: ${migrations.join(' ')}
create or replace function upload_lifecycle.initial_status()
returns upload_lifecycle.upload_status
language plpgsql immutable
set search_path = ''
as $$ begin return ${literal(initial.to)}::upload_lifecycle.upload_status; end $$;
revoke all on function upload_lifecycle.initial_status() from public;

-- Column default of entities.status and the MIME rule are harmless and needed by direct writers.
grant execute on function upload_lifecycle.initial_status() to authenticated, service_role;
`;
}
