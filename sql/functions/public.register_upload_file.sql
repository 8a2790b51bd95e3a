-- public.register_upload_file
-- migrations: 0016_file_rpcs 0034_client_keys
create or replace function public.register_upload_file(
  entity_id uuid,
  slot text,
  filename text,
  size bigint,
  mime text,
  sha256 text default null,
  file_key text default null
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
    register_upload_file.size, register_upload_file.mime, register_upload_file.sha256,
    register_upload_file.file_key);
end
$$;
revoke all on function public.register_upload_file(uuid, text, text, bigint, text, text, text) from public, anon, authenticated, service_role;
grant execute on function public.register_upload_file(uuid, text, text, bigint, text, text, text) to authenticated, service_role;
comment on function public.register_upload_file(uuid, text, text, bigint, text, text, text) is
$c$Registers a file while uploading (same file_key: same registration); answers where to upload it.
@returns RegisteredFile$c$;
