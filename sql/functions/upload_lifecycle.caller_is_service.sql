-- upload_lifecycle.caller_is_service
-- migrations: 0013_rpc_support
create or replace function upload_lifecycle.caller_is_service()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(auth.role(), '') = 'service_role';
end
$$;
revoke all on function upload_lifecycle.caller_is_service() from public;
