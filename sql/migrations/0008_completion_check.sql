-- 0008 completion check: no entity is `completed` without its verified files.
-- Guarantees: at commit (DEFERRABLE INITIALLY DEFERRED constraint trigger, so it holds for
-- service_role and the superuser too, and cannot be dodged by ordering statements in a
-- transaction), a completed entity satisfies every requirement of its kind (min/max count per
-- slot), every one of its files is verified, and every file's object exists in Storage at its
-- (bucket_id, object_path), belongs to the entity's owner, has the declared size and an allowed
-- type. Otherwise the transaction fails with UL002 and the list of problems in DETAIL.
-- `completion_problems` is the one definition of "requirements met", shared with finalize_upload.
create or replace function upload_lifecycle.completion_problems(p_entity_id uuid, p_require_verified boolean)
returns setof text
language sql stable
security definer
set search_path = ''
as $$
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
    select f.*, r.allowed_mime_types, e.owner_id,
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
  select format('file %s (%s): not verified', id, original_name)
    from files where p_require_verified and verified_at is null
$$;

create or replace function upload_lifecycle.check_completion()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_status upload_lifecycle.upload_status;
  v_problems text;
begin
  -- Re-read: the row may have been deleted later in the transaction.
  select e.status into v_status from upload_lifecycle.entities e where e.id = new.id;
  if v_status is distinct from 'completed' then
    return null;
  end if;
  select string_agg(p, E'\n') into v_problems
    from upload_lifecycle.completion_problems(new.id, true) as p;
  if v_problems is not null then
    raise exception using
      errcode = 'UL002',
      message = format('entity %s cannot be completed: requirements not met', new.id),
      detail = v_problems,
      hint = 'Upload the missing files, then call finalize_upload again.';
  end if;
  return null;
end
$$;

drop trigger if exists entities_completion_check on upload_lifecycle.entities;
create constraint trigger entities_completion_check
  after insert or update on upload_lifecycle.entities
  deferrable initially deferred
  for each row when (new.status = 'completed')
  execute function upload_lifecycle.check_completion();
