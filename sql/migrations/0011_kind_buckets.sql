-- 0011 a bucket per kind: Storage enforces the requirements before a byte is stored.
-- Guarantees: every entity kind has a private bucket `entity_kinds.bucket_id` whose
-- `file_size_limit` is the largest `max_bytes` of the kind's slots and whose `allowed_mime_types`
-- is the union of the slots' allowed types (wildcards such as image/* kept, as Supabase buckets
-- accept them). The bucket follows every insert, update and delete of entity_kinds and
-- file_requirements, so it can never drift from the requirements. Buckets are never deleted here:
-- Storage refuses to drop a bucket that still has objects, and old objects belong to the sweep.
create or replace function upload_lifecycle.sync_kind_bucket(p_kind text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  insert into storage.buckets as b (id, name, public, file_size_limit, allowed_mime_types)
  select k.bucket_id, k.bucket_id, false,
         (select max(r.max_bytes) from upload_lifecycle.file_requirements r where r.kind = k.kind),
         (select array_agg(distinct m.mime order by m.mime)
            from upload_lifecycle.file_requirements r, unnest(r.allowed_mime_types) as m(mime)
            where r.kind = k.kind)
  from upload_lifecycle.entity_kinds k
  where k.kind = p_kind
  on conflict (id) do update
    set public = false,
        file_size_limit = excluded.file_size_limit,
        allowed_mime_types = excluded.allowed_mime_types,
        updated_at = now()
$$;
revoke all on function upload_lifecycle.sync_kind_bucket(text) from public;

create or replace function upload_lifecycle.sync_kind_bucket_trigger()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    perform upload_lifecycle.sync_kind_bucket(old.kind);
    return null;
  end if;
  if tg_op = 'UPDATE' then
    if old.kind is distinct from new.kind then
      perform upload_lifecycle.sync_kind_bucket(old.kind);
    end if;
  end if;
  perform upload_lifecycle.sync_kind_bucket(new.kind);
  return null;
end
$$;
revoke all on function upload_lifecycle.sync_kind_bucket_trigger() from public;

drop trigger if exists entity_kinds_bucket on upload_lifecycle.entity_kinds;
create trigger entity_kinds_bucket
  after insert or update on upload_lifecycle.entity_kinds
  for each row execute function upload_lifecycle.sync_kind_bucket_trigger();

drop trigger if exists file_requirements_bucket on upload_lifecycle.file_requirements;
create trigger file_requirements_bucket
  after insert or update or delete on upload_lifecycle.file_requirements
  for each row execute function upload_lifecycle.sync_kind_bucket_trigger();

-- Kinds declared before this migration (upgrades).
select upload_lifecycle.sync_kind_bucket(k.kind) from upload_lifecycle.entity_kinds k;
