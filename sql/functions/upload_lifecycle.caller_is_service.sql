-- upload_lifecycle.caller_is_service
-- migrations: 0013_rpc_support
create or replace function upload_lifecycle.caller_is_service()
returns boolean
language sql
stable
set search_path = ''
as $$
  select coalesce(auth.role(), '') = 'service_role'
$$;
revoke all on function upload_lifecycle.caller_is_service() from public;
