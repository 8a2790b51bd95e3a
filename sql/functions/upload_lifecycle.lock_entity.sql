-- upload_lifecycle.lock_entity
-- migrations: 0013_rpc_support
create or replace function upload_lifecycle.lock_entity(p_entity_id uuid, p_service_may boolean)
returns upload_lifecycle.entities
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_entity upload_lifecycle.entities;
begin
  select * into v_entity from upload_lifecycle.entities e
    where e.id = p_entity_id
      and (e.owner_id = auth.uid() or (p_service_may and upload_lifecycle.caller_is_service()))
    for update;
  if not found then
    perform upload_lifecycle.raise_not_found('upload', p_entity_id);
  end if;
  return v_entity;
end
$$;
revoke all on function upload_lifecycle.lock_entity(uuid, boolean) from public;
