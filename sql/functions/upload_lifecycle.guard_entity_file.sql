-- upload_lifecycle.guard_entity_file
-- migrations: 0009_file_guard
create or replace function upload_lifecycle.guard_entity_file()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
  v_slot_known boolean;
  v_max_count integer;
  v_max_bytes bigint;
  v_allowed_mime_types text[];
  v_bucket text;
  v_count integer;
begin
  if tg_op = 'INSERT' then
    -- The entity (locked), the slot's requirement and the kind's bucket in one statement: it runs
    -- once per registered file.
    select e.id, e.kind, e.owner_id, e.status, r.slot is not null, r.max_count, r.max_bytes,
           r.allowed_mime_types, k.bucket_id
      into v_entity.id, v_entity.kind, v_entity.owner_id, v_entity.status, v_slot_known, v_max_count,
           v_max_bytes, v_allowed_mime_types, v_bucket
      from upload_lifecycle.entities e
      left join upload_lifecycle.file_requirements r on r.kind = e.kind and r.slot = new.slot
      left join upload_lifecycle.entity_kinds k on k.kind = e.kind
      where e.id = new.entity_id
      for update of e;
    if not found then
      raise exception using errcode = 'UL003', message = 'entity not found',
        hint = 'Check the entity id; it may have been deleted.';
    end if;
    if v_entity.status is distinct from 'uploading' then
      raise exception using errcode = 'UL005',
        message = format('entity %s is %s: files can be registered only while uploading', v_entity.id, v_entity.status),
        hint = case v_entity.status
                 when 'draft' then 'Call begin_upload first.'
                 when 'failed' then 'Call retry_upload first.'
                 else 'A completed entity cannot change; create a new entity.' end;
    end if;
    if not v_slot_known then
      raise exception using errcode = 'UL004',
        message = format('unknown slot %s for kind %s', new.slot, v_entity.kind),
        detail = (select 'known slots: ' || string_agg(r.slot, ', ' order by r.slot)
                  from upload_lifecycle.file_requirements r where r.kind = v_entity.kind),
        hint = 'Use one of the slots of this kind.';
    end if;
    if new.declared_size is null or new.declared_size <= 0 then
      raise exception using errcode = 'UL004', message = 'file size must be positive',
        hint = 'Send the file''s size in bytes.';
    end if;
    if new.declared_size > v_max_bytes then
      raise exception using errcode = 'UL004',
        message = format('file too large: %s bytes, slot %s allows at most %s', new.declared_size, new.slot, v_max_bytes),
        hint = 'Choose a smaller file.';
    end if;
    if not upload_lifecycle.mime_allowed(new.declared_mime, v_allowed_mime_types) then
      raise exception using errcode = 'UL004',
        message = format('file type %s not allowed in slot %s', coalesce(new.declared_mime, '(none)'), new.slot),
        detail = 'allowed: ' || array_to_string(v_allowed_mime_types, ', '),
        hint = 'Choose a file of an allowed type.';
    end if;
    if new.original_name is null or octet_length(new.original_name) = 0 then
      raise exception using errcode = 'UL004', message = 'file name is empty', hint = 'Send the file''s name.';
    end if;
    if octet_length(new.original_name) > 255 then
      raise exception using errcode = 'UL004',
        message = format('file name too long: %s bytes, at most 255', octet_length(new.original_name)),
        hint = 'Shorten the file name.';
    end if;
    if new.original_name ~ '[[:cntrl:]/\\]' or new.original_name in ('.', '..') then
      raise exception using errcode = 'UL004',
        message = 'file name contains control characters or path separators',
        hint = 'Send the base name of the file only.';
    end if;
    if new.sha256 is not null and new.sha256 !~ '^[0-9a-f]{64}$' then
      raise exception using errcode = 'UL004', message = 'sha256 must be 64 lowercase hex digits',
        hint = 'Send the hex SHA-256 of the file, or nothing.';
    end if;
    select count(*) into v_count from upload_lifecycle.entity_files f
      where f.entity_id = new.entity_id and f.slot = new.slot;
    if v_count >= v_max_count then
      raise exception using errcode = 'UL004',
        message = format('too many files in slot %s: at most %s', new.slot, v_max_count),
        hint = 'Remove a file from this slot first.';
    end if;
    new.id := coalesce(new.id, gen_random_uuid());
    new.kind := v_entity.kind;
    new.bucket_id := v_bucket;
    new.object_path := format('%s/%s/%s', v_entity.owner_id, v_entity.id, new.id);
    new.verified_at := null;
    new.created_at := now();
    return new;
  end if;

  -- DELETE (an update is guard_entity_file_change's and guard_entity_file_updates').
  select * into v_entity from upload_lifecycle.entities e where e.id = old.entity_id for update;
  if not found then
    -- The entity is being deleted (cascade): its files go with it.
    return old;
  end if;
  if v_entity.status in ('processing', 'completed') then
    raise exception using errcode = 'UL005',
      message = format('files of %s entity %s cannot change', v_entity.status, v_entity.id),
      hint = case v_entity.status
               when 'processing' then 'The files of a finalized upload are frozen while it is processed.'
               else 'A completed entity is final; create a new entity for new files.' end;
  end if;
  return old;
end
$$;
revoke all on function upload_lifecycle.guard_entity_file() from public;

drop trigger if exists entity_files_guard on upload_lifecycle.entity_files;
create trigger entity_files_guard
  before insert or delete on upload_lifecycle.entity_files
  for each row execute function upload_lifecycle.guard_entity_file();
-- Updates: upload_lifecycle.guard_entity_file_change (a row whose identity, declaration or key
-- changes) and upload_lifecycle.guard_entity_file_updates (the entity's status, once per statement).
