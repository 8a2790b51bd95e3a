-- 0024 plan-cached functions: the functions the storage policies, the file guard and every RPC
-- answer call are PL/pgSQL instead of SQL. Same bodies, same results, same privileges.
-- Why: PostgreSQL before 18 (Supabase runs 15 and 17) plans the body of a SQL-language function
-- on every call unless it can inline it, and a SECURITY DEFINER function or one with
-- `set search_path` is never inlined. RLS policies call these once per row checked (the storage
-- INSERT policies call caller_may_write_object twice per upload), so each call paid a fresh plan
-- of a join: 0.6 ms per call on PostgreSQL 15, more than the query itself. PL/pgSQL prepares each
-- statement once per session and reuses the plan.
-- Guarantees: none new; the policies and checks of 0001, 0013 and 0018 hold unchanged.

-- from 0001_schema.sql
create or replace function upload_lifecycle.mime_allowed(mime text, allowed text[])
returns boolean
language plpgsql immutable
set search_path = ''
as $$
begin
  return (
    select mime is not null and exists (
      select 1 from unnest(allowed) as a(pattern)
      where lower(a.pattern) = lower(mime)
         or (right(a.pattern, 2) = '/*' and lower(split_part(mime, '/', 1)) = lower(split_part(a.pattern, '/', 1)))
    )
  );
end
$$;

-- from 0013_rpc_support.sql
create or replace function upload_lifecycle.upload_state(p_entity_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select jsonb_build_object(
      'entity_id', e.id,
      'kind', e.kind,
      'status', e.status,
      'attempt', e.attempt,
      'max_attempts', k.max_attempts,
      'failure_reason', e.failure_reason,
      'metadata', e.metadata,
      'created_at', e.created_at,
      'updated_at', e.updated_at,
      'completed_at', e.completed_at,
      'requirements', coalesce((
        select jsonb_agg(jsonb_build_object(
                 'slot', r.slot,
                 'min_count', r.min_count,
                 'max_count', r.max_count,
                 'max_bytes', r.max_bytes,
                 'allowed_mime_types', to_jsonb(r.allowed_mime_types)) order by r.slot)
        from upload_lifecycle.file_requirements r where r.kind = e.kind), '[]'::jsonb),
      'files', coalesce((
        select jsonb_agg(jsonb_build_object(
                 'file_id', f.id,
                 'slot', f.slot,
                 'original_name', f.original_name,
                 'declared_size', f.declared_size,
                 'declared_mime', f.declared_mime,
                 'sha256', f.sha256,
                 'bucket_id', f.bucket_id,
                 'object_path', f.object_path,
                 'verified_at', f.verified_at,
                 'object_exists', o.id is not null,
                 'object_matches', coalesce(
                   o.id is not null
                   and o.owner_id = e.owner_id::text
                   and (o.metadata ->> 'size')::bigint = f.declared_size
                   and upload_lifecycle.mime_allowed(o.metadata ->> 'mimetype', r.allowed_mime_types), false))
               order by f.seq)
        from upload_lifecycle.entity_files f
        join upload_lifecycle.file_requirements r on r.kind = f.kind and r.slot = f.slot
        left join storage.objects o on o.bucket_id = f.bucket_id and o.name = f.object_path
        where f.entity_id = e.id), '[]'::jsonb))
    from upload_lifecycle.entities e
    join upload_lifecycle.entity_kinds k on k.kind = e.kind
    where e.id = p_entity_id
  );
end
$$;

-- from 0018_storage_policies.sql
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

-- from 0018_storage_policies.sql
create or replace function upload_lifecycle.caller_may_write_object(p_bucket_id text, p_name text)
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
      where f.bucket_id = p_bucket_id and f.object_path = p_name
        and e.owner_id = auth.uid() and e.status = 'uploading'
    )
  );
end
$$;

-- from 0018_storage_policies.sql
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
      where f.bucket_id = p_bucket_id and f.object_path = p_name and e.status = 'completed'
    )
  );
end
$$;
