-- upload_lifecycle.completion_problems
-- migrations: 0008_completion_check 0023_completion_max_bytes
-- The one definition of "requirements met", shared by finalize_upload and the deferred completion
-- check: one line per problem (min/max count per slot; per file: uploaded, by the owner, with the
-- declared size, within max_bytes as the requirement stands now, of an allowed type, verified).
-- upload_state's object_matches applies the same per-file rules.
create or replace function upload_lifecycle.completion_problems(p_entity_id uuid, p_require_verified boolean)
returns setof text
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  return query
    with e as (
      select id, kind, owner_id from upload_lifecycle.entities where id = p_entity_id
    ),
    counts as (
      select r.slot, r.min_count, r.max_count, count(f.id) as n
      from e
      join upload_lifecycle.file_requirements r on r.kind = e.kind
      left join upload_lifecycle.entity_files f on f.entity_id = e.id and f.slot = r.slot
      group by r.slot, r.min_count, r.max_count
    ),
    files as (
      select f.*, r.allowed_mime_types, r.max_bytes, e.owner_id,
             o.name as object_name, o.owner_id as object_owner,
             (o.metadata ->> 'size')::bigint as object_size, o.metadata ->> 'mimetype' as object_mime
      from e
      join upload_lifecycle.entity_files f on f.entity_id = e.id
      join upload_lifecycle.file_requirements r on r.kind = f.kind and r.slot = f.slot
      left join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
    )
    select format('slot %s: %s file(s), at least %s required', slot, n, min_count) from counts where n < min_count
    union all
    select format('slot %s: %s file(s), at most %s allowed', slot, n, max_count) from counts where n > max_count
    union all
    select format('file %s (%s): not uploaded', id, original_name) from files where object_name is null
    union all
    select format('file %s (%s): uploaded by another user', id, original_name)
      from files where object_name is not null and object_owner is distinct from owner_id::text
    union all
    select format('file %s (%s): stored size %s, declared %s', id, original_name, coalesce(object_size::text, 'unknown'), declared_size)
      from files where object_name is not null and object_size is distinct from declared_size
    union all
    select format('file %s (%s): stored type %s not allowed', id, original_name, coalesce(object_mime, 'unknown'))
      from files where object_name is not null and not upload_lifecycle.mime_allowed(object_mime, allowed_mime_types)
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
