-- public.start_upload
-- migrations: 0034_client_keys
create or replace function public.start_upload(entity_id uuid, files jsonb default '[]'::jsonb)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(start_upload.entity_id, false);
begin
  -- Replayed after a lost answer, the entity is already uploading: register what is missing only.
  if v_entity.status <> 'uploading' then
    perform upload_lifecycle.apply_event(v_entity, 'begin_upload');
    select * into v_entity from upload_lifecycle.entities e where e.id = v_entity.id;
  end if;
  perform upload_lifecycle.register_files(v_entity, start_upload.files);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;
revoke all on function public.start_upload(uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.start_upload(uuid, jsonb) to authenticated, service_role;
comment on function public.start_upload(uuid, jsonb) is
$c$draft → uploading and the files registered, in one call; a replay registers only what is missing.
@returns UploadState$c$;
