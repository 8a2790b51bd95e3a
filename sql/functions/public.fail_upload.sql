-- public.fail_upload
-- migrations: 0015_lifecycle_rpcs
create or replace function public.fail_upload(entity_id uuid, reason text default 'client_error')
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_reason text := coalesce(nullif(btrim(fail_upload.reason), ''), 'client_error');
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(fail_upload.entity_id, true);
begin
  if char_length(v_reason) > 500 then
    raise exception using errcode = 'UL004',
      message = format('reason too long: %s characters, at most 500', char_length(v_reason)),
      hint = 'Send a short reason code, such as client_error.';
  end if;
  perform upload_lifecycle.apply_event(v_entity, 'fail', v_reason);
  return upload_lifecycle.upload_state(v_entity.id);
end
$$;
revoke all on function public.fail_upload(uuid, text) from public, anon, authenticated, service_role;
grant execute on function public.fail_upload(uuid, text) to authenticated, service_role;
comment on function public.fail_upload(uuid, text) is $c$uploading → failed, recording the reason.
@returns UploadState$c$;
