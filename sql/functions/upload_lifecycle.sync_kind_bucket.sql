-- upload_lifecycle.sync_kind_bucket
-- migrations: 0011_kind_buckets
create or replace function upload_lifecycle.sync_kind_bucket(p_kind text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
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
        updated_at = now();
end
$$;
revoke all on function upload_lifecycle.sync_kind_bucket(text) from public;
