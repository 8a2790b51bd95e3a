-- public.delete_upload
-- migrations: 0015_lifecycle_rpcs
create or replace function public.delete_upload(entity_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities := upload_lifecycle.lock_entity(delete_upload.entity_id, false);
begin
  if v_entity.status = 'completed' then
    raise exception using errcode = 'UL005',
      message = format('upload %s is completed and cannot be deleted by its owner', v_entity.id),
      hint = 'A completed upload is final; ask an administrator to remove it.';
  end if;
  delete from upload_lifecycle.entities e where e.id = v_entity.id;
end
$$;
revoke all on function public.delete_upload(uuid) from public, anon, authenticated, service_role;
grant execute on function public.delete_upload(uuid) to authenticated, service_role;
comment on function public.delete_upload(uuid) is $c$Deletes an own upload that is not completed.$c$;
