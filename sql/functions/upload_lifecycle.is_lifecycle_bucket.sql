-- upload_lifecycle.is_lifecycle_bucket
-- migrations: 0018_storage_policies 0024_plan_cached_functions
create or replace function upload_lifecycle.is_lifecycle_bucket(p_bucket_id text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select exists (select 1 from upload_lifecycle.entity_kinds k where k.bucket_id = p_bucket_id)
  );
end
$$;
revoke all on function upload_lifecycle.is_lifecycle_bucket(text) from public;
-- Policy expressions run as the querying role, which must be able to call it.
grant execute on function upload_lifecycle.is_lifecycle_bucket(text) to anon, authenticated, service_role;
