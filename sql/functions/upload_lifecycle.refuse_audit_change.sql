-- upload_lifecycle.refuse_audit_change
-- migrations: 0006_entity_events
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
revoke all on function upload_lifecycle.refuse_audit_change() from public;

drop trigger if exists entity_events_append_only on upload_lifecycle.entity_events;
create trigger entity_events_append_only
  before update or delete on upload_lifecycle.entity_events
  for each row execute function upload_lifecycle.refuse_audit_change();
