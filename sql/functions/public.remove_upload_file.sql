-- public.remove_upload_file
-- migrations: 0016_file_rpcs
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
revoke all on function public.remove_upload_file(uuid, uuid) from public, anon, authenticated, service_role;
grant execute on function public.remove_upload_file(uuid, uuid) to authenticated, service_role;
comment on function public.remove_upload_file(uuid, uuid) is $c$Removes a file row while uploading.
@returns UploadState$c$;
