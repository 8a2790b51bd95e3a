-- upload_lifecycle.completion_problems
-- migrations: 0008_completion_check 0023_completion_max_bytes
-- The one definition of "requirements met", shared by finalize_upload and the deferred completion
-- check: one line per problem (min/max count per slot; per file: uploaded, by the owner, with the
-- declared size, within max_bytes as the requirement stands now, of an allowed type, verified).
-- upload_state's object_matches applies the same per-file rules.
-- It runs twice per finalize (the call and the check at commit), so: the entity's files by its id
-- (an index scan, not a join through the entity), each file's object by its unique
-- (bucket_id, name), the counts from the files already read, and mime_allowed once per distinct
-- (stored type, allowed types) rather than once per file. Files are listed in registration order.
create or replace function upload_lifecycle.completion_problems(p_entity_id uuid, p_require_verified boolean)
returns setof text
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_kind text;
  v_owner uuid;
begin
  select e.kind, e.owner_id into v_kind, v_owner from upload_lifecycle.entities e where e.id = p_entity_id;
  if not found then
    return;
  end if;
  return query
    with files as materialized (
      select f.id, f.original_name, f.slot, f.declared_size, f.verified_at, r.allowed_mime_types, r.max_bytes,
             o.name as object_name, o.owner_id as object_owner,
             (o.metadata ->> 'size')::bigint as object_size, o.metadata ->> 'mimetype' as object_mime
      from upload_lifecycle.entity_files f
      join upload_lifecycle.file_requirements r on r.kind = f.kind and r.slot = f.slot
      left join lateral (
        select o.name, o.owner_id, o.metadata from storage.objects o
        where o.bucket_id = f.bucket_id and o.name = f.object_path
        limit 1 -- (bucket_id, name) is unique; the limit keeps this a lookup per file
      ) o on true
      where f.entity_id = p_entity_id
      order by f.seq
    ),
    counts as (
      select r.slot, r.min_count, r.max_count, (select count(*) from files where files.slot = r.slot) as n
      from upload_lifecycle.file_requirements r
      where r.kind = v_kind
      order by r.slot
    ),
    stored_types as materialized (
      select distinct object_mime, allowed_mime_types from files where object_name is not null
    ),
    refused_types as materialized (
      select t.object_mime, t.allowed_mime_types from stored_types t
      where not upload_lifecycle.mime_allowed(t.object_mime, t.allowed_mime_types)
    )
    select format('slot %s: %s file(s), at least %s required', slot, n, min_count) from counts where n < min_count
    union all
    select format('slot %s: %s file(s), at most %s allowed', slot, n, max_count) from counts where n > max_count
    union all
    select format('file %s (%s): not uploaded', id, original_name) from files where object_name is null
    union all
    select format('file %s (%s): uploaded by another user', id, original_name)
      from files where object_name is not null and object_owner is distinct from v_owner::text
    union all
    select format('file %s (%s): stored size %s, declared %s', id, original_name, coalesce(object_size::text, 'unknown'), declared_size)
      from files where object_name is not null and object_size is distinct from declared_size
    union all
    select format('file %s (%s): stored type %s not allowed', f.id, f.original_name, coalesce(f.object_mime, 'unknown'))
      from files f
      where f.object_name is not null
        and exists (select 1 from refused_types t
                    where t.object_mime is not distinct from f.object_mime
                      and t.allowed_mime_types is not distinct from f.allowed_mime_types)
    union all
    select format('file %s (%s): %s bytes, slot %s allows at most %s', id, original_name, declared_size, slot, max_bytes)
      from files where declared_size > max_bytes
    union all
    select format('file %s (%s): not verified', id, original_name)
      from files where p_require_verified and verified_at is null;
end
$$;
revoke all on function upload_lifecycle.completion_problems(uuid, boolean) from public;
-- Workers may diagnose an entity; users go through get_upload_state, which checks ownership.
grant execute on function upload_lifecycle.completion_problems(uuid, boolean) to service_role;
