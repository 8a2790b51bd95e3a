-- public.requeue_failed_upload_job
-- migrations: 0040_job_rpcs
-- An operator (service_role) gives a dead job fresh runs: dead → pending (requeue, attempts reset)
-- when its attempt is still the entity's and the entity still waits for it — processing, or
-- completed for an optional job. A failed entity's jobs are not requeued: retry_upload starts a
-- new attempt with new jobs (UL005). Requeueing the same dead letter twice answers the same state.
create or replace function public.requeue_failed_upload_job(failed_job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_letter upload_lifecycle.failed_jobs;
  v_entity upload_lifecycle.entities;
  v_job upload_lifecycle.jobs;
begin
  select * into v_letter from upload_lifecycle.failed_jobs d where d.id = requeue_failed_upload_job.failed_job_id;
  if not found then
    perform upload_lifecycle.raise_not_found('dead letter', requeue_failed_upload_job.failed_job_id);
  end if;
  select * into v_entity from upload_lifecycle.entities e where e.id = v_letter.entity_id for update;
  select * into v_letter from upload_lifecycle.failed_jobs d where d.id = requeue_failed_upload_job.failed_job_id for update;
  select * into v_job from upload_lifecycle.jobs j where j.id = v_letter.job_id for update;
  if not found then
    perform upload_lifecycle.raise_not_found('job', v_letter.job_id);
  end if;
  if v_letter.requeued_at is not null then
    return upload_lifecycle.job_state(v_job.id);
  end if;
  if v_job.status <> 'dead' then
    raise exception using errcode = 'UL005',
      message = format('job %s is %s, not dead', v_job.id, v_job.status),
      hint = 'Only a dead job can be requeued.';
  end if;
  if v_entity.attempt <> v_job.entity_attempt or v_entity.status not in ('processing', 'completed') then
    raise exception using errcode = 'UL005',
      message = format('upload %s is %s (attempt %s): job %s of attempt %s cannot run again',
        v_entity.id, v_entity.status, v_entity.attempt, v_job.id, v_job.entity_attempt),
      hint = 'Retry the upload (retry_upload): its new attempt gets new jobs.';
  end if;
  update upload_lifecycle.jobs j set status = 'pending', run_after = pg_catalog.now() where j.id = v_job.id;
  update upload_lifecycle.failed_jobs d set requeued_at = pg_catalog.now() where d.id = v_letter.id;
  return upload_lifecycle.job_state(v_job.id);
end
$$;
revoke all on function public.requeue_failed_upload_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.requeue_failed_upload_job(uuid) to service_role;
comment on function public.requeue_failed_upload_job(uuid) is
$c$Operators (service_role): a dead job → pending with fresh runs while its entity still waits for it.$c$;
