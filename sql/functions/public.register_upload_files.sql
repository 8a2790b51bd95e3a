-- public.register_upload_files
-- migrations: 0034_client_keys
create or replace function public.register_upload_files(entity_id uuid, files jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(register_upload_files.entity_id, false);
begin
  perform upload_lifecycle.register_files(v_entity, register_upload_files.files);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;
revoke all on function public.register_upload_files(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.register_upload_files(uuid, jsonb) to authenticated, service_role;
comment on function public.register_upload_files(uuid, jsonb) is
$c$Registers a batch of files while uploading, idempotent by each file's key; all or nothing.
@returns UploadState$c$;
