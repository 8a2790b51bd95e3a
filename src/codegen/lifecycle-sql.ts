/**
 * Renders the lifecycle machine as SQL: the transition table and the initial status. The output is
 * committed as `sql/migrations/0037_lifecycle_transitions.sql` and
 * `sql/functions/upload_lifecycle.initial_status.sql`; a test fails when a committed file differs
 * from what these functions render from the machine. (`0002_lifecycle.sql` was rendered here until
 * release 0.1.0 and is frozen since: released migrations never change.)
 */
import type { LifecycleTransition, UploadStatus } from '../machines/lifecycle.js';

export interface LifecycleSpec {
  statuses: readonly UploadStatus[];
  transitions: readonly (LifecycleTransition & { actions: readonly string[] })[];
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const array = (values: readonly string[]) =>
  values.length === 0 ? `'{}'::text[]` : `array[${values.map(literal).join(', ')}]::text[]`;

/**
 * Renders `sql/migrations/0037_lifecycle_transitions.sql`. 0002 (released in 0.1.0, never changed
 * again) created the enum and the table; 0036 added `processing` to the enum in its own
 * transaction (a new enum value cannot be used in the transaction that adds it). This migration
 * refuses to apply unless the enum is exactly the machine's statuses, then rewrites the table.
 * Once it is released, the next change of the machine renders into a new migration.
 */
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
  const statuses = array(spec.statuses);
  return `-- 0037 lifecycle transitions: GENERATED from src/machines/lifecycle.ts by \`npm run generate\`. Do not edit.
-- Guarantees: the status enum has exactly the machine's statuses, in order (0002 created it, 0036
-- added \`processing\`; this file refuses to apply otherwise), and upload_lifecycle.transitions holds
-- exactly the machine's status changes (from, event, to, guard, actions, who). One event may lead
-- to several statuses with exclusive guards (finalize: \`ready_for_processing\` → processing,
-- \`requirements_met\` → completed), so (from, event) is no longer unique; (from, to) still is.
do $$
begin
  if (select array_agg(e.enumlabel::text order by e.enumsortorder)
      from pg_enum e join pg_type t on t.oid = e.enumtypid
      join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = 'upload_lifecycle' and t.typname = 'upload_status') is distinct from ${statuses} then
    raise exception 'upload_lifecycle.upload_status is not the lifecycle machine''s statuses %', ${statuses};
  end if;
end
$$;

alter table upload_lifecycle.transitions drop constraint if exists transitions_from_status_event_key;

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
