-- upload_lifecycle.guard_entity_update
-- migrations: 0007_transition_guard
create or replace function upload_lifecycle.guard_entity_update()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_transition upload_lifecycle.transitions;
  v_max_attempts integer;
  v_requested_reason text := new.failure_reason;
begin
  if new.id is distinct from old.id
     or new.kind is distinct from old.kind
     or new.owner_id is distinct from old.owner_id
     or new.created_at is distinct from old.created_at then
    raise exception using
      errcode = 'UL005',
      message = 'id, kind, owner_id and created_at of an entity never change',
      hint = 'Create a new entity instead.';
  end if;

  new.updated_at := now();

  if new.status is not distinct from old.status then
    -- Same status: not a transition. Lifecycle bookkeeping stays as it was.
    new.attempt := old.attempt;
    new.failure_reason := old.failure_reason;
    new.status_changed_at := old.status_changed_at;
    new.completed_at := old.completed_at;
    return new;
  end if;

  select * into v_transition from upload_lifecycle.transitions t
    where t.from_status = old.status and t.to_status = new.status;
  if not found then
    raise exception using
      errcode = 'UL001',
      message = format('forbidden transition: %s → %s', old.status, new.status),
      detail = format('entity %s is %s; the lifecycle allows %s from there.', old.id, old.status,
        coalesce((select string_agg(format('%s → %s', t.event, t.to_status), ', ' order by t.to_status)
                  from upload_lifecycle.transitions t where t.from_status = old.status), 'nothing')),
      hint = 'Use the lifecycle RPCs; read the current state with get_upload_state.';
  end if;

  if v_transition.guard = 'attempts_left' then
    select k.max_attempts into v_max_attempts from upload_lifecycle.entity_kinds k where k.kind = old.kind;
    if old.attempt >= v_max_attempts then
      raise exception using
        errcode = 'UL006',
        message = format('no upload attempts left (%s of %s used)', old.attempt, v_max_attempts),
        hint = 'Delete this entity and create a new one.';
    end if;
  end if;

  new.attempt := old.attempt;
  new.failure_reason := old.failure_reason;
  if 'start_attempt' = any (v_transition.actions) then
    new.attempt := old.attempt + 1;
    new.failure_reason := null;
  end if;
  if 'record_failure' = any (v_transition.actions) then
    new.failure_reason := coalesce(v_requested_reason, 'unspecified');
  end if;

  new.status_changed_at := now();
  new.completed_at := case when new.status = 'completed' then now() else null end;
  return new;
end
$$;
revoke all on function upload_lifecycle.guard_entity_update() from public;

drop trigger if exists entities_guard_update on upload_lifecycle.entities;
create trigger entities_guard_update
  before update on upload_lifecycle.entities
  for each row execute function upload_lifecycle.guard_entity_update();
