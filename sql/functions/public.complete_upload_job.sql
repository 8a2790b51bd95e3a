-- public.complete_upload_job
-- migrations: 0040_job_rpcs
-- One transaction: the job → complete with its result, its artifacts recorded after checking each
-- against storage.objects (in the entity's bucket, under the entity's folder, not one of its files,
-- stored with the declared size and content type), and — decided here, not by the worker — the
-- entity → completed when this was the last required job of its attempt to complete. Refused
-- (UL005) unless this worker holds the job (running, its id, lease not expired); the same worker
-- completing again with the same result gets the same answer (a retried request).
create or replace function public.complete_upload_job(
  job_id uuid,
  worker_id text,
  result jsonb default '{}'::jsonb,
  artifacts jsonb default '[]'::jsonb
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_job upload_lifecycle.jobs := upload_lifecycle.lock_job(complete_upload_job.job_id, complete_upload_job.worker_id);
  v_result jsonb := coalesce(complete_upload_job.result, '{}'::jsonb);
  v_artifacts jsonb := coalesce(complete_upload_job.artifacts, '[]'::jsonb);
  v_entity upload_lifecycle.entities;
  v_bucket text;
  v_a jsonb;
  v_variant text;
  v_path text;
  v_size bigint;
  v_type text;
  v_object storage.objects;
begin
  if v_job.status = 'complete' and v_job.worker_id is not distinct from complete_upload_job.worker_id
     and v_job.result is not distinct from v_result then
    return upload_lifecycle.job_state(v_job.id);
  end if;
  perform upload_lifecycle.refuse_unheld_job(v_job, complete_upload_job.worker_id);
  if jsonb_typeof(v_result) <> 'object' then
    raise exception using errcode = 'UL004', message = 'result must be a JSON object',
      hint = 'Send what the processor found as an object, e.g. {"sha256": "…"}.';
  end if;
  if jsonb_typeof(v_artifacts) <> 'array' or jsonb_array_length(v_artifacts) > 100 then
    raise exception using errcode = 'UL004', message = 'artifacts must be a JSON array of at most 100 objects',
      hint = 'Send [{"variant", "object_path", "size", "content_type", "sha256"?}, …].';
  end if;

  select * into v_entity from upload_lifecycle.entities e where e.id = v_job.entity_id;
  select k.bucket_id into v_bucket from upload_lifecycle.entity_kinds k where k.kind = v_entity.kind;
  for v_a in select value from jsonb_array_elements(v_artifacts) loop
    v_variant := v_a ->> 'variant';
    v_path := v_a ->> 'object_path';
    v_type := v_a ->> 'content_type';
    v_size := case when jsonb_typeof(v_a -> 'size') = 'number' then (v_a ->> 'size')::numeric::bigint end;
    if jsonb_typeof(v_a) <> 'object' or v_variant is null or v_path is null or v_type is null or v_size is null then
      raise exception using errcode = 'UL004',
        message = 'every artifact needs variant, object_path, size and content_type',
        hint = 'Upload the derived object first, then describe it.';
    end if;
    if coalesce(v_a ->> 'bucket_id', v_bucket) <> v_bucket
       or v_path not like format('%s/%s/%%', v_entity.owner_id, v_entity.id)
       or exists (select 1 from upload_lifecycle.entity_files f where f.bucket_id = v_bucket and f.object_path = v_path) then
      raise exception using errcode = 'UL004',
        message = format('artifact %s: %s is not a place for a derived object of upload %s', v_variant, v_path, v_entity.id),
        hint = format('Store it in bucket %s under %s/%s/ with a name no file of the upload has.', v_bucket, v_entity.owner_id, v_entity.id);
    end if;
    select * into v_object from storage.objects o where o.bucket_id = v_bucket and o.name = v_path;
    if not found then
      raise exception using errcode = 'UL004',
        message = format('artifact %s: no object at %s', v_variant, v_path),
        hint = 'Upload the derived object to Storage before completing the job.';
    end if;
    if (v_object.metadata ->> 'size')::bigint is distinct from v_size
       or (v_object.metadata ->> 'mimetype') is distinct from v_type then
      raise exception using errcode = 'UL004',
        message = format('artifact %s: stored object is %s bytes of %s, declared %s bytes of %s', v_variant,
          coalesce(v_object.metadata ->> 'size', 'unknown'), coalesce(v_object.metadata ->> 'mimetype', 'unknown'), v_size, v_type),
        hint = 'Describe the object as stored.';
    end if;
    insert into upload_lifecycle.artifacts (job_id, entity_id, file_id, variant, bucket_id, object_path, size, content_type, sha256)
    values (v_job.id, v_job.entity_id, v_job.file_id, v_variant, v_bucket, v_path, v_size, v_type, v_a ->> 'sha256');
  end loop;

  update upload_lifecycle.jobs j set status = 'complete', result = v_result where j.id = v_job.id;

  if v_entity.status = 'processing' and v_entity.attempt = v_job.entity_attempt
     and not exists (select 1 from upload_lifecycle.processing_problems(v_entity.id)) then
    perform upload_lifecycle.apply_event(v_entity, 'processed');
  end if;
  return upload_lifecycle.job_state(v_job.id);
end
$$;
revoke all on function public.complete_upload_job(uuid, text, jsonb, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.complete_upload_job(uuid, text, jsonb, jsonb) to service_role;
comment on function public.complete_upload_job(uuid, text, jsonb, jsonb) is
$c$Workers (service_role): the job → complete with result and artifacts; the entity → completed after its last required job.$c$;
