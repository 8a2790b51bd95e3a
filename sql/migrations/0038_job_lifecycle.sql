-- 0038 job lifecycle: GENERATED from src/machines/job.ts by `npm run generate`. Do not edit.
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
    create type upload_lifecycle.job_status as enum ('pending', 'running', 'complete', 'failed', 'dead', 'cancelled');
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
  ('pending', 'claim', 'running', null, array['start_run']::text[]),
  ('pending', 'cancel', 'cancelled', null, '{}'::text[]),
  ('running', 'complete', 'complete', null, '{}'::text[]),
  ('running', 'fail', 'failed', null, '{}'::text[]),
  ('running', 'lease_expired', 'pending', 'attempts_left', '{}'::text[]),
  ('running', 'cancel', 'cancelled', null, '{}'::text[]),
  ('failed', 'retry', 'pending', 'attempts_left', '{}'::text[]),
  ('failed', 'bury', 'dead', null, '{}'::text[]),
  ('failed', 'cancel', 'cancelled', null, '{}'::text[]),
  ('dead', 'requeue', 'pending', null, array['reset_attempts']::text[]),
  ('dead', 'cancel', 'cancelled', null, '{}'::text[]);
