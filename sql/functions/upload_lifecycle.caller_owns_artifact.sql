-- upload_lifecycle.caller_owns_artifact
-- migrations: 0041_artifact_read
-- Whether (bucket, path) is an artifact (a processor's variant, stored by the worker with the
-- service key, so Storage records no owner) of an entity the caller owns: the owner may read it
-- through Storage like their own uploads. By the artifacts' unique (bucket_id, object_path) index.
create or replace function upload_lifecycle.caller_owns_artifact(p_bucket_id text, p_name text)
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
      from upload_lifecycle.artifacts a
      join upload_lifecycle.entities e on e.id = a.entity_id
      where a.bucket_id = p_bucket_id and a.object_path = p_name
        and e.owner_id = (select auth.uid())
    )
  );
end
$$;
revoke all on function upload_lifecycle.caller_owns_artifact(text, text) from public;
-- Policy expressions run as the querying role, which must be able to call it.
grant execute on function upload_lifecycle.caller_owns_artifact(text, text) to anon, authenticated, service_role;
