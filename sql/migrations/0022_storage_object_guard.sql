-- 0022 storage object guard: a completed entity never loses or changes an object.
-- Guarantees, for every role including service_role (the Storage API's own connection) and the
-- superuser: a storage.objects row registered to a file of a `completed` entity can be neither
-- updated (upsert) nor deleted (UL005). The row trigger takes a FOR SHARE lock on the owning
-- entity, so it serialises with finalize_upload (which locks the entity FOR UPDATE before it
-- checks the objects): a removal that started before finalize committed either commits first
-- (finalize then sees the object missing and answers UL002) or waits and is refused. The storage
-- policies alone could not give this: they read the entity's status without a lock.
-- Objects of deleted entities (the deletion outbox) and objects without a file row are unaffected.
-- Relies on no auth.uid(): the storage server writes and deletes as service_role.
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
  if v_status = 'completed' then
    raise exception using
      errcode = 'UL005',
      message = format('the objects of completed entity %s cannot be changed or removed', v_entity_id),
      hint = 'A completed entity is final; delete the entity to remove its files.';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

revoke all on function upload_lifecycle.guard_storage_object() from public;

drop trigger if exists upload_lifecycle_guard_object on storage.objects;
create trigger upload_lifecycle_guard_object
  before update or delete on storage.objects
  for each row execute function upload_lifecycle.guard_storage_object();
