-- upload_lifecycle.upload_state
-- migrations: 0013_rpc_support 0024_plan_cached_functions 0034_client_keys
-- The answer of every RPC. object_exists / object_matches say, per file, whether finalize would
-- accept the stored object: the per-file rules of completion_problems (owner, stored size = declared
-- size, declared size within the slot's max_bytes as it stands now, allowed type), so a resuming
-- client is never told "uploaded" for a file finalize refuses. Every answer lists the file keys,
-- and the processing jobs of the current attempt (processor, status, required, last error,
-- artifacts) per file.
create or replace function upload_lifecycle.upload_state(p_entity_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    -- Each file's object by its unique (bucket_id, name), and mime_allowed once per distinct
    -- (stored type, allowed types) rather than once per file: this answers every RPC.
    with files as materialized (
      select f.id, f.file_key, f.slot, f.original_name, f.declared_size, f.declared_mime, f.sha256,
             f.bucket_id, f.object_path, f.verified_at, f.seq, r.max_bytes, r.allowed_mime_types,
             o.id as object_id, o.owner_id as object_owner,
             (o.metadata ->> 'size')::bigint as object_size, o.metadata ->> 'mimetype' as object_mime
      from upload_lifecycle.entity_files f
      join upload_lifecycle.file_requirements r on r.kind = f.kind and r.slot = f.slot
      left join lateral (
        select o.id, o.owner_id, o.metadata from storage.objects o
        where o.bucket_id = f.bucket_id and o.name = f.object_path
        limit 1 -- (bucket_id, name) is unique; the limit keeps this a lookup per file
      ) o on true
      where f.entity_id = p_entity_id
    ),
    stored_types as materialized (
      select distinct object_mime, allowed_mime_types from files where object_id is not null
    ),
    allowed_types as materialized (
      select t.object_mime, t.allowed_mime_types from stored_types t
      where upload_lifecycle.mime_allowed(t.object_mime, t.allowed_mime_types)
    )
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
                 'file_key', f.file_key,
                 'slot', f.slot,
                 'original_name', f.original_name,
                 'declared_size', f.declared_size,
                 'declared_mime', f.declared_mime,
                 'sha256', f.sha256,
                 'bucket_id', f.bucket_id,
                 'object_path', f.object_path,
                 'verified_at', f.verified_at,
                 'object_exists', f.object_id is not null,
                 'object_matches', coalesce(
                   f.object_id is not null
                   and f.object_owner = e.owner_id::text
                   and f.object_size = f.declared_size
                   and f.declared_size <= f.max_bytes
                   and exists (select 1 from allowed_types t
                               where t.object_mime is not distinct from f.object_mime
                                 and t.allowed_mime_types is not distinct from f.allowed_mime_types), false))
               order by f.seq)
        from files f), '[]'::jsonb),
      -- The processing jobs of the current attempt, per file, with their derived objects.
      'jobs', coalesce((
        select jsonb_agg(jsonb_build_object(
                 'job_id', j.id,
                 'file_id', j.file_id,
                 'processor', j.processor,
                 'required', j.required,
                 'status', j.status,
                 'attempt', j.attempt,
                 'max_attempts', j.max_attempts,
                 'last_error', j.last_error,
                 'artifacts', coalesce((
                   select jsonb_agg(jsonb_build_object('variant', a.variant, 'bucket_id', a.bucket_id,
                            'object_path', a.object_path, 'size', a.size, 'content_type', a.content_type,
                            'sha256', a.sha256) order by a.variant)
                   from upload_lifecycle.artifacts a where a.job_id = j.id), '[]'::jsonb))
               order by f.seq, j.processor)
        from upload_lifecycle.jobs j
        join upload_lifecycle.entity_files f on f.id = j.file_id
        where j.entity_id = e.id and j.entity_attempt = e.attempt), '[]'::jsonb))
    from upload_lifecycle.entities e
    join upload_lifecycle.entity_kinds k on k.kind = e.kind
    where e.id = p_entity_id
  );
end
$$;
revoke all on function upload_lifecycle.upload_state(uuid) from public;

-- The RPC answers, declared for the type generator (npm run generate:types).
comment on function upload_lifecycle.upload_state(uuid) is
$c$The UploadState JSON of docs/rpc.md, answered by every lifecycle RPC.
@type UploadState { entity_id: string; kind: string; status: "draft" | "uploading" | "processing" | "completed" | "failed"; attempt: number; max_attempts: number; failure_reason: string | null; metadata: { [key: string]: Json | undefined }; created_at: string; updated_at: string; completed_at: string | null; requirements: UploadStateRequirement[]; files: UploadStateFile[]; jobs: UploadStateJob[] }
@type UploadStateRequirement { slot: string; min_count: number; max_count: number; max_bytes: number; allowed_mime_types: string[] }
@type UploadStateFile { file_id: string; file_key: string; slot: string; original_name: string; declared_size: number; declared_mime: string; sha256: string | null; bucket_id: string; object_path: string; verified_at: string | null; object_exists: boolean; object_matches: boolean }
@type UploadStateJob { job_id: string; file_id: string; processor: string; required: boolean; status: "pending" | "running" | "complete" | "failed" | "dead" | "cancelled"; attempt: number; max_attempts: number; last_error: Json | null; artifacts: UploadArtifact[] }$c$;
