-- 0002 lifecycle: GENERATED from src/machines/lifecycle.ts by `npm run generate`. Do not edit.
-- Guarantees: the status enum has exactly the machine's statuses; upload_lifecycle.transitions
-- holds exactly the machine's status changes (from, event, to, guard, actions, who), and
-- initial_status() is the target of `create`. The triggers of 0007 consult this table, so it is
-- the only list of allowed status changes in the database. Nobody but the schema owner may change it.
do $$
begin
  if not exists (
    select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'upload_lifecycle' and t.typname = 'upload_status'
  ) then
    create type upload_lifecycle.upload_status as enum ('draft', 'uploading', 'completed', 'failed');
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
  ('draft', 'begin_upload', 'uploading', null, array['start_attempt']::text[], array['owner']::text[]),
  ('uploading', 'finalize', 'completed', 'requirements_met', '{}'::text[], array['owner', 'service']::text[]),
  ('uploading', 'fail', 'failed', null, array['record_failure']::text[], array['owner', 'service', 'sweeper']::text[]),
  ('failed', 'retry', 'uploading', 'attempts_left', array['start_attempt']::text[], array['owner']::text[]);
