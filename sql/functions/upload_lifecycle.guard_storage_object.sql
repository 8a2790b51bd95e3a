-- upload_lifecycle.guard_storage_object
-- migrations: 0022_storage_object_guard
create or replace function upload_lifecycle.guard_storage_object()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entity_id uuid;
  v_status upload_lifecycle.upload_status;
begin
  select e.id, e.status into v_entity_id, v_status
  from upload_lifecycle.entity_files f
  join upload_lifecycle.entities e on e.id = f.entity_id
  where f.bucket_id = old.bucket_id and f.object_path = old.name
  for share of e;
  -- Frozen from finalize on: the checks of processing hold for the bytes that stay.
  if v_status in ('processing', 'completed') then
    raise exception using
      errcode = 'UL005',
      message = format('the objects of %s entity %s cannot be changed or removed', v_status, v_entity_id),
      hint = 'A finalized entity''s files are frozen; delete the entity to remove its files.';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

revoke all on function upload_lifecycle.guard_storage_object() from public;

drop trigger if exists upload_lifecycle_guard_object on storage.objects;
create trigger upload_lifecycle_guard_object
  before update or delete on storage.objects
  for each row execute function upload_lifecycle.guard_storage_object();
