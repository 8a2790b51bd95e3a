-- upload_lifecycle.job_state
-- migrations: 0040_job_rpcs
-- The answer of the job RPCs: the job, its artifacts and its entity's status.
create or replace function upload_lifecycle.job_state(p_job_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select jsonb_build_object(
      'job_id', j.id,
      'entity_id', j.entity_id,
      'file_id', j.file_id,
      'processor', j.processor,
      'required', j.required,
      'status', j.status,
      'attempt', j.attempt,
      'max_attempts', j.max_attempts,
      'run_after', j.run_after,
      'last_error', j.last_error,
      'result', j.result,
      'entity_status', e.status,
      'artifacts', coalesce((
        select jsonb_agg(jsonb_build_object('variant', a.variant, 'bucket_id', a.bucket_id,
                 'object_path', a.object_path, 'size', a.size, 'content_type', a.content_type,
                 'sha256', a.sha256) order by a.variant)
        from upload_lifecycle.artifacts a where a.job_id = j.id), '[]'::jsonb))
    from upload_lifecycle.jobs j join upload_lifecycle.entities e on e.id = j.entity_id
    where j.id = p_job_id
  );
end
$$;
revoke all on function upload_lifecycle.job_state(uuid) from public;
comment on function upload_lifecycle.job_state(uuid) is
$c$The UploadJobState JSON answered by the job RPCs.
@type UploadJobState { job_id: string; entity_id: string; file_id: string; processor: string; required: boolean; status: "pending" | "running" | "complete" | "failed" | "dead" | "cancelled"; attempt: number; max_attempts: number; run_after: string; last_error: Json | null; result: Json | null; entity_status: "draft" | "uploading" | "processing" | "completed" | "failed"; artifacts: UploadArtifact[] }
@type UploadArtifact { variant: string; bucket_id: string; object_path: string; size: number; content_type: string; sha256: string | null }$c$;
