-- upload_lifecycle.guard_entity_file_change
-- migrations: 0042_file_update_guard
-- An UPDATE of a file row that changes its identity, declaration or key (the trigger's WHEN): the
-- entity's status first, then "file rows never change" — the order and messages the row guard
-- gave every update before 0042. An update of verified_at alone never calls this; its entity
-- checks are guard_entity_file_updates', once per statement. A changed file_key passes here and is
-- refused by guard_file_key (entity_files_key_immutable), as before.
create or replace function upload_lifecycle.guard_entity_file_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
begin
  select * into v_entity from upload_lifecycle.entities e where e.id = old.entity_id for update;
  if not found then
    return new;
  end if;
  if v_entity.status in ('processing', 'completed') then
    raise exception using errcode = 'UL005',
      message = format('files of %s entity %s cannot change', v_entity.status, v_entity.id),
      hint = case v_entity.status
               when 'processing' then 'The files of a finalized upload are frozen while it is processed.'
               else 'A completed entity is final; create a new entity for new files.' end;
  end if;
  if (new.id, new.entity_id, new.kind, new.slot, new.bucket_id, new.object_path, new.original_name,
      new.declared_size, new.declared_mime, new.sha256, new.created_at)
     is distinct from
     (old.id, old.entity_id, old.kind, old.slot, old.bucket_id, old.object_path, old.original_name,
      old.declared_size, old.declared_mime, old.sha256, old.created_at) then
    raise exception using errcode = 'UL005', message = 'file rows never change; only verified_at is set by finalize',
      hint = 'Remove the file and register a new one.';
  end if;
  if new.verified_at is distinct from old.verified_at and v_entity.status <> 'uploading' then
    raise exception using errcode = 'UL005',
      message = format('entity %s is %s: files are verified only while uploading', v_entity.id, v_entity.status);
  end if;
  return new;
end
$$;
revoke all on function upload_lifecycle.guard_entity_file_change() from public;

-- Before entity_files_key_immutable (triggers fire in name order), as the row guard did.
drop trigger if exists entity_files_guard_change on upload_lifecycle.entity_files;
create trigger entity_files_guard_change
  before update on upload_lifecycle.entity_files
  for each row
  when ((new.id, new.entity_id, new.kind, new.slot, new.bucket_id, new.object_path, new.original_name,
         new.declared_size, new.declared_mime, new.sha256, new.created_at, new.file_key)
        is distinct from
        (old.id, old.entity_id, old.kind, old.slot, old.bucket_id, old.object_path, old.original_name,
         old.declared_size, old.declared_mime, old.sha256, old.created_at, old.file_key))
  execute function upload_lifecycle.guard_entity_file_change();
