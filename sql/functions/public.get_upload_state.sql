-- public.get_upload_state
-- migrations: 0015_lifecycle_rpcs
-- A read: no FOR UPDATE, so polling a progress bar never waits behind a finalize.
create or replace function public.get_upload_state(entity_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not exists (
    select 1 from upload_lifecycle.entities e
    where e.id = get_upload_state.entity_id
      and (e.owner_id = auth.uid() or upload_lifecycle.caller_is_service())
  ) then
    perform upload_lifecycle.raise_not_found('upload', get_upload_state.entity_id);
  end if;
  return upload_lifecycle.upload_state(get_upload_state.entity_id);
end
$$;
revoke all on function public.get_upload_state(uuid) from public, anon, authenticated, service_role;
grant execute on function public.get_upload_state(uuid) to authenticated, service_role;
comment on function public.get_upload_state(uuid) is $c$Status, requirements and files with their Storage presence, for resuming.
@returns UploadState$c$;
