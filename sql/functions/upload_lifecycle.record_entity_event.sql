-- upload_lifecycle.record_entity_event
-- migrations: 0006_entity_events
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
revoke all on function upload_lifecycle.record_entity_event() from public;

drop trigger if exists entities_audit on upload_lifecycle.entities;
create trigger entities_audit
  after insert or update of status or delete on upload_lifecycle.entities
  for each row execute function upload_lifecycle.record_entity_event();
