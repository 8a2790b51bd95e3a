-- public.retry_upload
-- migrations: 0015_lifecycle_rpcs
create or replace function public.retry_upload(entity_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(retry_upload.entity_id, false);
begin
  perform upload_lifecycle.apply_event(v_entity, 'retry');
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;
revoke all on function public.retry_upload(uuid) from public, anon, authenticated, service_role;
grant execute on function public.retry_upload(uuid) to authenticated, service_role;
comment on function public.retry_upload(uuid) is $c$failed → uploading while attempts are left (UL006 otherwise).
@returns UploadState$c$;
