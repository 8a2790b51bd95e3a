-- public.claim_upload_jobs
-- migrations: 0040_job_rpcs
-- A worker takes up to max_jobs due pending jobs (of the given processors, or any when null) of
-- entities still waiting for them (the job's attempt is the entity's, and the entity is processing,
-- or completed for its optional jobs), FOR UPDATE SKIP LOCKED so concurrent workers never get the
-- same job, and holds each for lease_seconds: claim → running, attempt + 1 (the job machine).
create or replace function public.claim_upload_jobs(
  worker_id text,
  max_jobs integer default 10,
  lease_seconds integer default 300,
  processors text[] default null
)
returns table (
  job_id uuid,
  processor text,
  entity_id uuid,
  file_id uuid,
  kind text,
  slot text,
  bucket_id text,
  object_path text,
  declared_size bigint,
  declared_mime text,
  declared_sha256 text,
  required boolean,
  attempt integer,
  max_attempts integer,
  entity_attempt integer,
  lease_until timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
begin
  if claim_upload_jobs.worker_id is null or char_length(claim_upload_jobs.worker_id) not between 1 and 200 then
    raise exception using errcode = 'UL004', message = 'worker_id must be 1 to 200 characters',
      hint = 'Give each worker process a stable, unique id (host and pid, or a UUID).';
  end if;
  if claim_upload_jobs.max_jobs is null or claim_upload_jobs.max_jobs not between 1 and 1000 then
    raise exception using errcode = 'UL004',
      message = format('max_jobs must be between 1 and 1000, got %s', coalesce(claim_upload_jobs.max_jobs::text, 'null')),
      hint = 'Claim about as many jobs as the worker runs at once.';
  end if;
  if claim_upload_jobs.lease_seconds is null or claim_upload_jobs.lease_seconds not between 1 and 86400 then
    raise exception using errcode = 'UL004',
      message = format('lease_seconds must be between 1 and 86400, got %s', coalesce(claim_upload_jobs.lease_seconds::text, 'null')),
      hint = 'Use a lease several heartbeats long, such as 300, and extend it while working.';
  end if;
  return query
  with due as (
    select j.id from upload_lifecycle.jobs j
    join upload_lifecycle.entities e on e.id = j.entity_id
    where j.status = 'pending' and j.run_after <= pg_catalog.now()
      and (claim_upload_jobs.processors is null or j.processor = any (claim_upload_jobs.processors))
      and j.entity_attempt = e.attempt and e.status in ('processing', 'completed')
    order by j.run_after, j.created_at, j.id
    limit claim_upload_jobs.max_jobs
    for update of j skip locked
  ),
  claimed as (
    update upload_lifecycle.jobs j
      set status = 'running',
          worker_id = claim_upload_jobs.worker_id,
          lease_until = pg_catalog.now() + make_interval(secs => claim_upload_jobs.lease_seconds)
      from due where j.id = due.id
    returning j.*
  )
  select c.id, c.processor, c.entity_id, c.file_id, f.kind, f.slot, f.bucket_id, f.object_path,
         f.declared_size, f.declared_mime, f.sha256, c.required, c.attempt, c.max_attempts,
         c.entity_attempt, c.lease_until
  from claimed c join upload_lifecycle.entity_files f on f.id = c.file_id
  order by c.created_at, c.id;
end
$$;
revoke all on function public.claim_upload_jobs(text, integer, integer, text[]) from public, anon, authenticated, service_role;
grant execute on function public.claim_upload_jobs(text, integer, integer, text[]) to service_role;
comment on function public.claim_upload_jobs(text, integer, integer, text[]) is
$c$Workers (service_role): claims up to max_jobs due jobs with a lease, FOR UPDATE SKIP LOCKED.$c$;
