-- public.fail_upload_job
-- migrations: 0040_job_rpcs
-- A worker reports a failed run (refused, UL005, unless it holds the job). The error is kept
-- (last_error, job_events). A retryable error with runs left puts the job back to pending after a
-- backoff (run_after = now + 10 s × 2^(runs − 1), at most 1 hour); otherwise the job is buried at
-- once: dead, a dead-letter row, and — for a required job — the entity fails with a reason naming
-- the file and the processor.
create or replace function public.fail_upload_job(
  job_id uuid,
  worker_id text,
  error jsonb default '{}'::jsonb,
  retryable boolean default true
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_job upload_lifecycle.jobs := upload_lifecycle.lock_job(fail_upload_job.job_id, fail_upload_job.worker_id);
  v_error jsonb := coalesce(fail_upload_job.error, '{}'::jsonb);
begin
  perform upload_lifecycle.refuse_unheld_job(v_job, fail_upload_job.worker_id);
  if jsonb_typeof(v_error) <> 'object' or octet_length(v_error::text) > 16384 then
    raise exception using errcode = 'UL004', message = 'error must be a JSON object of at most 16 kB',
      hint = 'Send {"message": "…", "code": "…"}.';
  end if;
  update upload_lifecycle.jobs j set status = 'failed', last_error = v_error where j.id = v_job.id
    returning * into v_job;
  if coalesce(fail_upload_job.retryable, true) and v_job.attempt < v_job.max_attempts then
    update upload_lifecycle.jobs j
      set status = 'pending',
          run_after = pg_catalog.now() + least(interval '1 hour', interval '10 seconds' * power(2, greatest(v_job.attempt - 1, 0)))
      where j.id = v_job.id;
  else
    perform upload_lifecycle.bury_job(v_job.id);
  end if;
  return upload_lifecycle.job_state(v_job.id);
end
$$;
revoke all on function public.fail_upload_job(uuid, text, jsonb, boolean) from public, anon, authenticated, service_role;
grant execute on function public.fail_upload_job(uuid, text, jsonb, boolean) to service_role;
comment on function public.fail_upload_job(uuid, text, jsonb, boolean) is
$c$Workers (service_role): a failed run → retried with backoff while runs are left and retryable, else dead letter.$c$;
