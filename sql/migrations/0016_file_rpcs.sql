-- 0016 file RPCs: register_upload_file and remove_upload_file.
-- Guarantees: only the owner registers or removes files, only while the entity is `uploading`
-- (UL005 otherwise), every input is validated with a UL004 that says what to fix (unknown slot,
-- too many files for the slot, size <= 0 or over max_bytes, type not allowed, bad MIME syntax,
-- empty / over-long / control-character / path-separator name, malformed sha256). The path is
-- derived by 0009 — `{owner_id}/{entity_id}/{file_id}` in the kind's bucket — and answered as
-- `{file_id, bucket_id, object_path}`; the user's file name never reaches it.
-- remove_upload_file only deletes the row; the deletion outbox (a later migration) queues the object.
create or replace function public.register_upload_file(
  entity_id uuid,
  slot text,
  filename text,
  size bigint,
  mime text,
  sha256 text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(register_upload_file.entity_id, false);
begin
  return upload_lifecycle.register_file(v_entity, register_upload_file.slot, register_upload_file.filename,
    register_upload_file.size, register_upload_file.mime, register_upload_file.sha256);
end
$$;

create or replace function public.remove_upload_file(entity_id uuid, file_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(remove_upload_file.entity_id, false);
begin
  if v_entity.status <> 'uploading' then
    raise exception using errcode = 'UL005',
      message = format('upload %s is %s: files can be removed only while uploading', v_entity.id, v_entity.status),
      hint = case v_entity.status
               when 'completed' then 'A completed upload is final; create a new one.'
               when 'failed' then 'Call retry_upload first.'
               else 'Call begin_upload first.' end;
  end if;
  delete from upload_lifecycle.entity_files f
    where f.id = remove_upload_file.file_id and f.entity_id = v_entity.id;
  if not found then
    perform upload_lifecycle.raise_not_found('file', remove_upload_file.file_id);
  end if;
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;

do $$
declare
  f text;
begin
  foreach f in array array[
    'public.register_upload_file(uuid, text, text, bigint, text, text)',
    'public.remove_upload_file(uuid, uuid)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated, service_role', f);
    execute format('grant execute on function %s to authenticated, service_role', f);
  end loop;
end
$$;
