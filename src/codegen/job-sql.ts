/**
 * Renders the job machine (src/machines/job.ts) as SQL and as a document: the enum
 * `upload_lifecycle.job_status`, the table `upload_lifecycle.job_transitions` (committed as
 * `sql/migrations/0038_job_lifecycle.sql`) and `docs/jobs.md`. A test fails when a committed file
 * differs from what these functions render from the machine.
 */
import type { JobStatus, JobTransition } from '../machines/job.js';

export interface JobSpec {
  statuses: readonly JobStatus[];
  transitions: readonly JobTransition[];
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
const array = (values: readonly string[]) =>
  values.length === 0 ? `'{}'::text[]` : `array[${values.map(literal).join(', ')}]::text[]`;

export function renderJobSql(spec: JobSpec): string {
  const rows = spec.transitions
    .map(
      (t) =>
        `  (${literal(t.from)}, ${literal(t.event)}, ${literal(t.to)}, ${t.guard ? literal(t.guard) : 'null'}, ${array(t.actions)})`,
    )
    .join(',\n');
  return `-- 0038 job lifecycle: GENERATED from src/machines/job.ts by \`npm run generate\`. Do not edit.
-- Guarantees: the job status enum has exactly the job machine's statuses; upload_lifecycle.job_transitions
-- holds exactly its status changes (from, event, to, guard, actions). The job guard trigger (0039,
-- upload_lifecycle.guard_job_update) consults this table for every role, so it is the only list of
-- allowed job status changes in the database. Nobody but the schema owner may change it.
do $$
begin
  if not exists (
    select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'upload_lifecycle' and t.typname = 'job_status'
  ) then
    create type upload_lifecycle.job_status as enum (${spec.statuses.map(literal).join(', ')});
  end if;
end
$$;

create table if not exists upload_lifecycle.job_transitions (
  from_status upload_lifecycle.job_status not null,
  event text not null,
  to_status upload_lifecycle.job_status not null,
  guard text,
  actions text[] not null default '{}',
  primary key (from_status, to_status),
  unique (from_status, event)
);

alter table upload_lifecycle.job_transitions enable row level security;
revoke all on upload_lifecycle.job_transitions from public, anon, authenticated, service_role;
grant select on upload_lifecycle.job_transitions to authenticated, service_role;
drop policy if exists job_transitions_read on upload_lifecycle.job_transitions;
create policy job_transitions_read on upload_lifecycle.job_transitions
  for select to authenticated, service_role using (true);

delete from upload_lifecycle.job_transitions;
insert into upload_lifecycle.job_transitions (from_status, event, to_status, guard, actions) values
${rows};
`;
}

/** Renders `docs/jobs.md`: the job machine's diagram and table. */
export function renderJobDoc(spec: JobSpec, mermaid: string): string {
  const rows = spec.transitions
    .map((t) => `| ${t.from} | ${t.event} | ${t.to} | ${t.guard ?? '—'} | ${t.actions.join(', ') || '—'} |`)
    .join('\n');
  return `<!-- GENERATED from src/machines/job.ts by \`npm run generate\`. Do not edit. -->
# Processing jobs

One job per file × processor of the entity's current attempt, created by \`finalize_upload\` from
the kind's \`kind_processors\`. Statuses: ${spec.statuses.map((s) => `\`${s}\``).join(', ')}.

\`\`\`mermaid
${mermaid}\`\`\`

| from | event | to | guard | actions |
|---|---|---|---|---|
${rows}

Every other status change of a job is refused with \`UL001\` by the trigger
\`upload_lifecycle.guard_job_update\`, for every role including service_role and the superuser.

- \`attempts_left\` compares \`attempt\` (runs started) with \`max_attempts\`; \`bury\` has no guard:
  \`fail_upload_job\` buries a job out of attempts, or at once when its error is not retryable.
- \`start_run\` (on claim) increments \`attempt\`; \`reset_attempts\` (on requeue) sets it to 0.
- \`lease_expired\` is taken by the sweep for a running job whose \`lease_until\` passed (its worker
  stopped heartbeating); out of attempts, the sweep fails and buries it instead.
- \`cancel\` is taken for the jobs of an attempt that is over: the entity failed, or was retried.
- \`bury\` writes the dead-letter row (\`failed_jobs\`); \`requeue\` is \`requeue_failed_upload_job\`.
`;
}
