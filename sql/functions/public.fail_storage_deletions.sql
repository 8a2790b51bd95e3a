-- public.fail_storage_deletions
-- migrations: 0032_storage_deletion_rpcs
create or replace function public.fail_storage_deletions(ids bigint[], error text)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
  return upload_lifecycle.postpone_storage_deletions(fail_storage_deletions.ids, fail_storage_deletions.error);
end
$$;
revoke all on function public.fail_storage_deletions(bigint[], text) from public, anon, authenticated, service_role;
grant execute on function public.fail_storage_deletions(bigint[], text) to service_role;
