-- upload_lifecycle.guard_entity_insert
-- migrations: 0007_transition_guard
create or replace function upload_lifecycle.guard_entity_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status is distinct from upload_lifecycle.initial_status() then
    raise exception using
      errcode = 'UL001',
      message = format('forbidden transition: (none) → %s', new.status),
      detail = format('A new entity starts as %s.', upload_lifecycle.initial_status()),
      hint = 'Create the entity as a draft, then follow the lifecycle.';
  end if;
  new.attempt := 0;
  new.failure_reason := null;
  new.completed_at := null;
  new.created_at := now();
  new.updated_at := now();
  new.status_changed_at := now();
  return new;
end
$$;
revoke all on function upload_lifecycle.guard_entity_insert() from public;

drop trigger if exists entities_guard_insert on upload_lifecycle.entities;
create trigger entities_guard_insert
  before insert on upload_lifecycle.entities
  for each row execute function upload_lifecycle.guard_entity_insert();
