-- 0006 audit log: every status change of every entity, append-only.
-- Guarantees: one row per create, status change and deletion, written by trigger (so no path can
-- skip it), with who (auth.uid() and the JWT role, or the database role), when, from, to, the
-- lifecycle event and details. Rows outlive their entity and can be neither updated nor deleted
-- by anyone through SQL DML. Owners read the events of their own entities.

create table if not exists upload_lifecycle.entity_events (
  id bigint generated always as identity primary key,
  entity_id uuid not null,
  owner_id uuid not null,
  kind text not null,
  event text not null,
  from_status upload_lifecycle.upload_status,
  to_status upload_lifecycle.upload_status,
  attempt integer not null,
  detail jsonb not null default '{}'::jsonb,
  actor_id uuid,
  actor_role text not null,
  created_at timestamptz not null default now()
);

create index if not exists entity_events_entity on upload_lifecycle.entity_events (entity_id, id);
create index if not exists entity_events_owner on upload_lifecycle.entity_events (owner_id, id);

alter table upload_lifecycle.entity_events enable row level security;
revoke all on upload_lifecycle.entity_events from public, anon, authenticated, service_role;
grant select on upload_lifecycle.entity_events to authenticated, service_role;

drop policy if exists entity_events_owner_read on upload_lifecycle.entity_events;
create policy entity_events_owner_read on upload_lifecycle.entity_events
  for select to authenticated using (owner_id = (select auth.uid()));
