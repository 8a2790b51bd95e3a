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

create or replace function upload_lifecycle.refuse_audit_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'UL005',
    message = 'entity_events is append-only',
    hint = 'Audit rows are written by triggers and never changed or removed.';
end
$$;

drop trigger if exists entity_events_append_only on upload_lifecycle.entity_events;
create trigger entity_events_append_only
  before update or delete on upload_lifecycle.entity_events
  for each row execute function upload_lifecycle.refuse_audit_change();

-- Who is acting: the signed-in user's id and JWT role when there are claims, else the database role.
create or replace function upload_lifecycle.actor_role()
returns text
language sql stable
set search_path = ''
as $$
  select coalesce(nullif(auth.jwt() ->> 'role', ''), session_user::text)
$$;

create or replace function upload_lifecycle.record_entity_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_event text;
begin
  if tg_op = 'INSERT' then
    select t.event into v_event from upload_lifecycle.transitions t
      where t.from_status is null and t.to_status = new.status;
    insert into upload_lifecycle.entity_events
      (entity_id, owner_id, kind, event, from_status, to_status, attempt, detail, actor_id, actor_role)
    values
      (new.id, new.owner_id, new.kind, coalesce(v_event, 'create'), null, new.status, new.attempt,
       jsonb_build_object('idempotency_key', new.idempotency_key),
       auth.uid(), upload_lifecycle.actor_role());
    return new;
  elsif tg_op = 'UPDATE' then
    if new.status is not distinct from old.status then
      return new;
    end if;
    select t.event into v_event from upload_lifecycle.transitions t
      where t.from_status = old.status and t.to_status = new.status;
    insert into upload_lifecycle.entity_events
      (entity_id, owner_id, kind, event, from_status, to_status, attempt, detail, actor_id, actor_role)
    values
      (new.id, new.owner_id, new.kind, v_event, old.status, new.status, new.attempt,
       jsonb_strip_nulls(jsonb_build_object('failure_reason', new.failure_reason)),
       auth.uid(), upload_lifecycle.actor_role());
    return new;
  else
    insert into upload_lifecycle.entity_events
      (entity_id, owner_id, kind, event, from_status, to_status, attempt, detail, actor_id, actor_role)
    values
      (old.id, old.owner_id, old.kind, 'delete', old.status, null, old.attempt, '{}'::jsonb,
       auth.uid(), upload_lifecycle.actor_role());
    return old;
  end if;
end
$$;

drop trigger if exists entities_audit on upload_lifecycle.entities;
create trigger entities_audit
  after insert or update of status or delete on upload_lifecycle.entities
  for each row execute function upload_lifecycle.record_entity_event();
