-- upload_lifecycle.object_is_final
-- migrations: 0018_storage_policies 0024_plan_cached_functions
create or replace function upload_lifecycle.object_is_final(p_bucket_id text, p_name text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select exists (
      select 1
      from upload_lifecycle.entity_files f
      join upload_lifecycle.entities e on e.id = f.entity_id
      where f.bucket_id = p_bucket_id and f.object_path = p_name and e.status in ('processing', 'completed')
    )
  );
end
$$;
revoke all on function upload_lifecycle.object_is_final(text, text) from public;
-- Policy expressions run as the querying role, which must be able to call it.
grant execute on function upload_lifecycle.object_is_final(text, text) to anon, authenticated, service_role;
